"""An MCP client (the official Python SDK) driving `opsdeck mcp` over stdio.

Environment: OPSDECK (the binary), DATA_DIR, ALLOW_REVEAL ("1" or "0"),
plus the deck's own variables (passed through to the server).
Prints one JSON line with what it saw; the Rust test checks it.
"""
import asyncio
import json
import os

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def main():
    args = ["--data-dir", os.environ["DATA_DIR"], "mcp"]
    if os.environ.get("ALLOW_REVEAL") == "1":
        args.append("--allow-reveal")
    server = StdioServerParameters(command=os.environ["OPSDECK"], args=args, env=dict(os.environ))
    seen = {}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            seen["tools"] = {tool.name: {"read_only": bool(tool.annotations and tool.annotations.read_only_hint),
                                         "schema": tool.input_schema} for tool in tools}

            async def call(name, arguments):
                result = await session.call_tool(name, arguments)
                text = "".join(block.text for block in result.content if getattr(block, "text", None))
                return {"error": bool(result.is_error), "body": json.loads(text) if text else None}

            seen["vaults"] = await call("vault_list", {})
            seen["secrets"] = await call("secret_list", {"vault": "prod"})
            seen["unknown_vault"] = await call("secret_list", {"vault": "nope"})
            seen["bad_input"] = await call("secret_list", {"vault": 5})
            seen["verify"] = await call("audit_verify", {})
            seen["reveal"] = await call("secret_reveal", {"vault": "prod", "name": "db"})
    print(json.dumps(seen))


asyncio.run(main())
