"""One module per console area, each exposing `router` (an APIRouter)."""
