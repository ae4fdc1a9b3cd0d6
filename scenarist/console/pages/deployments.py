"""Console pages: deployments."""

from fastapi import APIRouter

router = APIRouter()
