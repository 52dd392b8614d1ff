"""The official MCP Python SDK over streamable HTTP at /mcp, with API tokens.

Environment: URL (http://127.0.0.1:PORT/mcp) and TOKENS (JSON: name → token).
Prints one JSON line with what each token saw.
"""
import asyncio
import json
import os

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

URL = os.environ["URL"]
TOKENS = json.loads(os.environ["TOKENS"])


async def session_for(token, work):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(URL, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await work(session)


async def look(session):
    tools = sorted(tool.name for tool in (await session.list_tools()).tools)

    async def call(name, arguments):
        result = await session.call_tool(name, arguments)
        text = "".join(block.text for block in result.content if getattr(block, "text", None))
        return {"error": bool(result.is_error), "body": json.loads(text) if text else None}

    return {
        "tools": tools,
        "search": await call("secret_list", {"vault": "prod"}),
        "side_effect": await call("job_run_now", {"name": "audit-verify"}),
        "reveal": await call("secret_reveal", {"vault": "prod", "name": "db"}),
    }


async def main():
    seen = {}
    for name, token in TOKENS.items():
        seen[name] = await session_for(token, look)
    try:
        await session_for(None, look)
        seen["no_token"] = "connected"
    except BaseException as error:  # the SDK raises a group on a refused connection
        seen["no_token"] = f"refused: {type(error).__name__}"
    print(json.dumps(seen))


asyncio.run(main())
