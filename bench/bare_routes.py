"""The bare baseline process: Litestar on uvicorn with two routes, one Redis GET and one
`find_one` by `_id` on the read model, and nothing else (no auth, no cache logic, no
models). The benchmarks start it beside the real API, on the same servers.

    .venv/bin/python bench/bare_routes.py PORT MONGODB_URL DATABASE REDIS_URL
"""

import sys


def serve(port: int, mongodb_url: str, database_name: str, redis_url: str) -> None:
    import redis.asyncio as redis
    import uvicorn
    from litestar import Litestar, get
    from pymongo import AsyncMongoClient

    mongo = AsyncMongoClient(mongodb_url, tz_aware=True)
    views = mongo[database_name]["customer_details"]
    cache = redis.from_url(redis_url)

    @get("/redis/{key:str}")
    async def redis_get(key: str) -> dict:
        return {"value": (await cache.get(key) or b"").decode()}

    @get("/mongo/{customer_id:str}")
    async def mongo_find_one(customer_id: str) -> dict:
        document = await views.find_one({"_id": customer_id}, {"state": 1})
        return document["state"] if document else {}

    uvicorn.run(Litestar([redis_get, mongo_find_one]), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    port, url, database, redis_url = sys.argv[1:5]
    serve(int(port), url, database, redis_url)
