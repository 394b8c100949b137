"""Help, generated from the command table so it never drifts from the grammar."""

from __future__ import annotations

from collections.abc import Iterator

from bot.commands.parser import CommandTable
from bot.commands.spec import Command
from bot.roles import Role
from bot.views import blocks
from bot.views.limits import MAX_SECTION_TEXT
from bot.views.message import Message

# The order help shows commands in. A command missing here still shows, under "More".
SECTIONS = (
    ("Containers", ("ps", "logs", "inspect", "run", "start", "stop", "restart", "kill", "attach",
                    "exec", "rm", "cp")),
    ("Images and registries", ("images", "image inspect", "rmi", "image prune", "build", "tag",
                               "push", "pull", "login", "logout")),
    ("Engine and bot", ("system df", "version", "info", "hosts", "jobs", "jobs run", "jobs pause",
                        "jobs resume", "jobs history", "audit", "help")),
)


def role_text(role: Role) -> str:
    """Who may run a command, in words."""
    return "anyone" if role == Role.NONE else role.label


def grouped(table: CommandTable) -> list[tuple[str, list[Command]]]:
    """Every command of the table, once, under its section title."""
    listed = [(title, [command for name in names if (command := _lookup(table, name))])
              for title, names in SECTIONS]
    shown = {command.name for _, commands in listed for command in commands}
    rest = [command for command in table.commands if command.name not in shown]
    return [*listed, *([("More", rest)] if rest else [])]


def _lookup(table: CommandTable, name: str) -> Command | None:
    try:
        return table[name]
    except KeyError:
        return None


def overview(table: CommandTable, slash: str = "/docker") -> Message:
    """Every command with its summary, role and first example."""
    parts = [blocks.header("dockops: the docker CLI, from Slack"),
             blocks.section(f"Type what you would type after `docker`: `{slash} ps -a`, "
                            f"`{slash} logs -f api`, `{slash} run -d -p 3000:80 --name web nginx`.")]
    for title, commands in grouped(table):
        lines = [_overview_line(command, slash) for command in commands]
        parts += [blocks.section(text) for text in _chunks(f"*{title}*", lines)]
    parts.append(blocks.context(
        f"`{slash} help COMMAND` (or `{slash} COMMAND --help`) shows its flags and examples. "
        "Add `--private` to see the answer alone; `-H NAME` picks a host. Destructive commands "
        "ask you to confirm."))
    return Message(text="dockops commands", blocks=tuple(parts))


def _overview_line(command: Command, slash: str) -> str:
    # The first example that shows more than the bare command name.
    shown = next((e for e in command.examples if e != command.name), None) or \
        next(iter(command.examples), None)
    example = f"  e.g. `{slash} {shown}`" if shown else ""
    return f"`{command.name}`  {command.summary} _({role_text(command.role)})_{example}"


def _chunks(title: str, lines: list[str]) -> Iterator[str]:
    """Section texts within Slack's limit, the title on the first."""
    text = title
    for line in lines:
        if len(text) + 1 + len(line) > MAX_SECTION_TEXT:
            yield text
            text = line
        else:
            text += "\n" + line
    yield text


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
    higher = " Some options need a higher role." if command.role_for else ""
    parts.append(blocks.context(f"Needs role: {role_text(command.role)}.{higher}{destructive}"))
    return Message(text=command.usage, blocks=tuple(parts))
