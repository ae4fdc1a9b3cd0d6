"""Console pages: overview."""

from fastapi import APIRouter

router = APIRouter()
