"""Console pages: runs."""

from fastapi import APIRouter

router = APIRouter()
