"""`python -m neka.serve`: a trained run behind a REST API and a small web page.

Needs the `serve` extra (`pip install -e ".[serve]"`: FastAPI, uvicorn).
"""
