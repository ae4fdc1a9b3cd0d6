"""Console pages: scenarios."""

from fastapi import APIRouter

router = APIRouter()
