"""Console pages: checks."""

from fastapi import APIRouter

router = APIRouter()
