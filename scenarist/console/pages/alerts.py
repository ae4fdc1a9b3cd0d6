"""Console pages: alerts."""

from fastapi import APIRouter

router = APIRouter()
