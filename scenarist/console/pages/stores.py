"""Console pages: stores."""

from fastapi import APIRouter

router = APIRouter()
