"""The framework's floor: bare Flask + flask-jwt-extended, verifying the same kind of token, same JSON.

Served by gunicorn with the project's worker settings; BARE_APP_BODY names a file holding the JSON
that the cached /api/dashboard/stats answered, so both sides send the same bytes.
"""
import json
import os
from datetime import timedelta

from flask import Flask
from flask_jwt_extended import JWTManager, jwt_required

app = Flask(__name__)
app.config.update(JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"], JWT_ALGORITHM="HS256",
                  JWT_DECODE_ALGORITHMS=["HS256"], JWT_TOKEN_LOCATION=["headers"],
                  JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=15))
JWTManager(app)
with open(os.environ["BARE_APP_BODY"]) as body_file:
    BODY = json.load(body_file)


@app.get("/api/dashboard/stats")
@jwt_required()
def stats():
    """Answer the stored dashboard JSON to a valid token."""
    return BODY
