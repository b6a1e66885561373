"""A scripted agent for tests/e2e/mcp.rs: drives `planexec mcp PLAN` over stdio with the
official Python MCP SDK and does what a scenario file says.

usage: mcp_agent.py PLANEXEC WORKSPACE PLAN SCENARIO.json OUT.json

The scenario maps each task id to its attempts (each a dict of path -> new content,
written into the work tree before `submit`) and, optionally, `escalate` (a reason given
instead of another attempt). With `"kill_on_progress": "T001"` the agent kills the server
with SIGKILL at the first progress notification of that task's first submission, then
starts a second server and goes on; with `"dies_once": true` the server is expected to
die once by itself (PLANEXEC_TEST_KILL_AT), and the second one is started without it;
with `"probe": true` it first submits T002 while T001 is in progress. `command` (the
server's command line) and `server_cwd` replace the defaults.
Every tool answer is written to OUT.json.
"""

import asyncio
import json
import os
import signal
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def children():
    """This process's child processes (the servers stdio_client started)."""
    me = os.getpid()
    out = []
    for tid in os.listdir(f"/proc/{me}/task"):
        with open(f"/proc/{me}/task/{tid}/children") as f:
            out += [int(p) for p in f.read().split()]
    return out


class Agent:
    def __init__(self, exe, ws, plan, scenario):
        self.exe, self.ws, self.plan, self.scenario = exe, ws, plan, scenario
        self.attempts = {t: 0 for t in scenario["tasks"]}
        self.log = []
        self.kill = scenario.get("kill_on_progress")

    def write(self, files):
        for rel, text in files.items():
            path = os.path.join(self.ws, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    async def call(self, s, name, args, progress=None):
        r = await s.call_tool(name, args, progress_callback=progress)
        text = "".join(getattr(c, "text", "") for c in r.content)
        entry = {"tool": name, "args": args, "error": bool(r.is_error),
                 "result": r.structured_content, "text": text}
        self.log.append(entry)
        return entry

    async def session(self):
        """One server process, from start to a final state, a kill, or the end of the plan."""
        command = self.scenario.get("command", [self.exe, "mcp", self.plan])
        params = StdioServerParameters(command=command[0], args=command[1:],
                                       cwd=self.scenario.get("server_cwd", self.ws),
                                       env=dict(os.environ))
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                tools = await s.list_tools()
                listing = json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True)
                                      for t in tools.tools])
                self.log.append({"tool": "tools/list", "names": [t.name for t in tools.tools],
                                 "bytes": len(listing.encode()), "tokens_estimate": len(listing) // 4})
                return await self.work(s)

    async def work(self, s):
        while True:
            nxt = (await self.call(s, "next_task", {}))["result"]
            if nxt["state"] != "task":
                await self.call(s, "status", {})
                return "ended"
            brief = nxt["task"]
            tid = brief["task_id"]
            plan = self.scenario["tasks"][tid]
            n = self.attempts[tid]
            if n >= len(plan.get("attempts", [])):
                await self.call(s, "escalate", {"task_id": tid, "reason": plan["escalate"]})
                continue
            self.attempts[tid] = n + 1
            self.write(plan["attempts"][n])
            if self.scenario.get("probe") and n == 0 and tid == "T001":
                # Not the task in progress, and a note that is not a command.
                await self.call(s, "submit", {"task_id": "T002", "notes": "$(touch /tmp/pwned)"})
            kill = self.kill == tid and n == 0
            if kill:
                self.kill = None
            await self.call(s, "submit", {"task_id": tid, "notes": f"attempt {n + 1}"},
                            self.on_progress(kill))

    def on_progress(self, kill):
        """Logs each progress notification; with `kill`, SIGKILLs the server at the first
        gate that runs."""
        async def seen(progress, total, message):
            self.log.append({"tool": "progress", "message": message})
            if kill and message and "running" in message and not self.killed():
                for pid in children():
                    os.kill(pid, signal.SIGKILL)
                self.log.append({"tool": "killed"})
        return seen

    def killed(self):
        return any(x.get("tool") == "killed" for x in self.log)

    def ended(self):
        return any(x.get("tool") == "session-ended" for x in self.log)


async def main():
    exe, ws, plan, scenario_path, out = sys.argv[1:6]
    with open(scenario_path) as f:
        scenario = json.load(f)
    agent = Agent(exe, ws, plan, scenario)
    for _ in range(3):
        try:
            if await agent.session() == "ended":
                break
        except BaseException as e:  # a killed server ends the session with an error
            if not (agent.killed() or scenario.get("dies_once")) or agent.ended():
                raise
            agent.log.append({"tool": "session-ended", "error": type(e).__name__})
            agent.attempts = {t: 0 for t in agent.attempts}
            # The server killed itself (PLANEXEC_TEST_KILL_AT): the next one must not.
            os.environ.pop("PLANEXEC_TEST_KILL_AT", None)
    with open(out, "w") as f:
        json.dump(agent.log, f, indent=1)


if __name__ == "__main__":
    asyncio.run(main())
