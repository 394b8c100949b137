"""Help, generated from the command table so it never drifts from the grammar."""

from __future__ import annotations

from bot.commands.parser import CommandTable
from bot.commands.spec import Command
from bot.views import blocks
from bot.views.message import Message

SECTIONS = (
    ("Containers", ("ps", "logs", "inspect", "run", "start", "stop", "restart", "kill", "attach",
                    "exec", "rm", "cp")),
    ("Images and registries", ("images", "image inspect", "rmi", "image prune", "build", "tag",
                               "push", "pull", "login", "logout")),
    ("Engine and bot", ("system df", "version", "info", "hosts", "jobs", "jobs run", "jobs pause",
                        "jobs resume", "jobs history", "audit", "help")),
)


def overview(table: CommandTable, slash: str = "/docker") -> Message:
    parts = [blocks.header("dockops: the docker CLI, from Slack"),
             blocks.section(f"Type what you would type after `docker`: `{slash} ps -a`, "
                            f"`{slash} logs -f api`, `{slash} run -d -p 3000:80 --name web nginx`.")]
    for title, names in SECTIONS:
        lines = [f"`{name}`  {table[name].summary} _({table[name].role.label})_" for name in names]
        parts.append(blocks.section(f"*{title}*\n" + "\n".join(lines)))
    parts.append(blocks.context(
        f"`{slash} COMMAND --help` shows its flags and examples. Add `--private` to see the answer "
        "alone; `-H NAME` picks a host. Destructive commands ask you to confirm."))
    return Message(text="dockops commands", blocks=tuple(parts))


def command_help(command: Command, slash: str = "/docker") -> Message:
    flags = "\n".join(f"{flag.signature():<28} {flag.help}" for flag in command.flags)
    aliases = ", ".join(" ".join(a) for a in command.aliases)
    parts = [blocks.section(f"*{command.summary}*\n`{command.usage}`"
                            + (f"\nAliases: {aliases}" if aliases else ""))]
    if flags:
        parts.append(blocks.code("Options:\n" + flags))
    if command.examples:
        parts.append(blocks.section("*Examples*\n" + "\n".join(
            f"`{slash} {example}`" for example in command.examples)))
    destructive = " Asks for confirmation first." if command.destructive else ""
    parts.append(blocks.context(f"Needs role: {command.role.label}.{destructive}"))
    return Message(text=command.usage, blocks=tuple(parts))
