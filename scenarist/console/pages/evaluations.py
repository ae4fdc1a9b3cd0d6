"""Console pages: evaluations."""

from fastapi import APIRouter

router = APIRouter()
