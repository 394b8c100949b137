"""The example config covers every setting, and each mistake is one line: key, problem, fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import (
    AccessConfig,
    BuildConfig,
    CopyConfig,
    EnvSettings,
    FileConfig,
    LimitsConfig,
    PruneJobConfig,
    RegistryConfig,
    RunPolicyConfig,
    Settings,
    SlackConfig,
    UpdateJobConfig,
    load,
    parse_file,
)
from bot.errors import DockopsError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "dockops.example.toml"
# Documented in the example's prose only: setting both is itself a mistake.
EXCLUSIVE = {(RegistryConfig, "password_file")}


def example() -> str:
    return EXAMPLE.read_text()


TLS_DIR = "/etc/dockops/staging/"


def uncommented(text: str, tls_dir: Path) -> str:
    """The example with every optional setting (`#key = ...`, `#[table]`) switched on.

    The TLS files it names must exist to validate: they are pointed at files in `tls_dir`.
    """
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tls_dir / name).write_text("-----BEGIN CERTIFICATE-----\n")
    text = text.replace(TLS_DIR, f"{tls_dir}/")
    return re.sub(r"^#(?=\S)", "", text, flags=re.M)


def section_models(model: type[BaseModel] = FileConfig) -> set[type[BaseModel]]:
    """Every model reachable from FileConfig (sections, [hosts.X], [[jobs]], ...)."""
    found = {model}
    for field in model.model_fields.values():
        for candidate in _models_in(field.annotation):
            found |= section_models(candidate)
    return found


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def every_instance(value: object) -> list[BaseModel]:
    """All model instances inside a parsed config."""
    if isinstance(value, BaseModel):
        children = [getattr(value, name) for name in type(value).model_fields]
        return [value, *(m for child in children for m in every_instance(child))]
    if isinstance(value, dict):
        return [m for child in value.values() for m in every_instance(child)]
    if isinstance(value, list | tuple):
        return [m for child in value for m in every_instance(child)]
    return []


def mistakes(text: str) -> list[str]:
    with pytest.raises(DockopsError) as caught:
        parse_file(text, "dockops.toml")
    return caught.value.detail.splitlines()


def test_example_parses_and_its_active_lines_are_the_defaults() -> None:
    parsed = parse_file(example(), "example")
    assert parsed.access == AccessConfig()
    assert parsed.run == RunPolicyConfig()
    assert parsed.copy_ == CopyConfig()
    assert parsed.build == BuildConfig()
    assert parsed.slack == SlackConfig()
    assert parsed.limits == LimitsConfig()
    assert parsed.jobs == [] and parsed.hosts == {} and parsed.registries == {}


def test_example_with_every_optional_setting_switched_on_parses(tmp_path: Path) -> None:
    assert TLS_DIR in example()
    parsed = parse_file(uncommented(example(), tmp_path), "example, uncommented")
    assert {job.type for job in parsed.jobs} == {"prune", "update"}
    assert set(parsed.hosts) == {"staging"} and set(parsed.registries) == {"127.0.0.1:5000"}
    assert parsed.access is not None and set(parsed.access.roles) == {"admin", "operator", "viewer"}


def test_every_setting_of_every_section_is_in_the_example() -> None:
    text = example()
    for model in section_models():
        for name, field in model.model_fields.items():
            key = field.alias or name
            as_key = re.search(rf'^#?\s*"?{re.escape(key)}"?\s*=', text, re.M)
            as_table = re.search(rf"^#?\[{{1,2}}[^\]\n]*\b{re.escape(key)}\b[^\]\n]*\]", text, re.M)
            assert as_key or as_table, f"{model.__name__}.{key} is not in {EXAMPLE.name}"


def test_both_job_types_are_sections_the_example_must_cover() -> None:
    assert {PruneJobConfig, UpdateJobConfig} <= section_models()


def test_settings_name_every_section_of_the_file_as_a_typed_attribute(tmp_path: Path) -> None:
    """No forwarding by name: a section missing here (or a typo) is an error, not Any."""
    parsed = parse_file(uncommented(example(), tmp_path))
    settings = Settings(EnvSettings(), parsed, None)
    assert "__getattr__" not in vars(Settings)
    for name, field in FileConfig.model_fields.items():
        assert getattr(settings, field.alias or name) is getattr(parsed, name), name


def test_every_setting_is_set_somewhere_in_the_uncommented_example(tmp_path: Path) -> None:
    """Stronger than a text match: the parser saw each key where it belongs."""
    parsed = parse_file(uncommented(example(), tmp_path))
    seen: dict[type[BaseModel], set[str]] = {}
    for instance in every_instance(parsed):
        seen.setdefault(type(instance), set()).update(instance.model_fields_set)
    for model in section_models() - {FileConfig}:
        unset = set(model.model_fields) - seen.get(model, set()) - \
            {name for owner, name in EXCLUSIVE if owner is model}
        assert not unset, f"{model.__name__}: {sorted(unset)} never set in the example"


@pytest.mark.parametrize(("toml", "expected"), [
    ("[limits]\nworker = 4\n",
     "line 2: limits.worker: unknown key: did you mean workers? "
     "(config/dockops.example.toml lists every key)."),
    ("[acess]\ndefault_role = 'viewer'\n",
     "line 1: acess: unknown key: did you mean access? "
     "(config/dockops.example.toml lists every key)."),
    ("[limits]\nzzz = 1\n",
     "line 2: limits.zzz: unknown key. Remove it or check the spelling "
     "(config/dockops.example.toml lists every key)."),
    ("[limits]\nworkers = \"eight\"\n",
     'line 2: limits.workers: expected a whole number, got "eight". Write it without quotes, '
     "e.g. workers = 8."),
    ("[limits]\nfollow_seconds = \"1m\"\n",
     'line 2: limits.follow_seconds: expected a number, got "1m". Write it without quotes, '
     "e.g. follow_seconds = 60."),
    ("[limits]\nworkers = 0\n", "line 2: limits.workers: must be at least 1, got 0."),
    ("[limits]\nworkers = 100\n", "line 2: limits.workers: must be at most 64, got 100."),
    ("[limits]\nshutdown_grace_seconds = -1\n",
     "line 2: limits.shutdown_grace_seconds: must be at least 0, got -1."),
    ("[slack]\nreply = \"public\"\n",
     'line 2: slack.reply: must be "in_channel" or "ephemeral", got "public".'),
    ("[slack]\ncommand = 5\n",
     'line 2: slack.command: expected text, got 5. Write it in double quotes, '
     'e.g. command = "/docker".'),
    ("[run]\nallow_cap_add = \"NET_ADMIN\"\n",
     'line 2: run.allow_cap_add: expected a list, got "NET_ADMIN". Write it in brackets, '
     'e.g. ["a", "b"].'),
    ("access = 5\n",
     "line 1: access: expected a table, got 5. Write it as a [section] line with keys under it."),
    ("[access]\ndefault_role = \"superuser\"\n",
     "line 2: access.default_role: unknown role 'superuser': use one of "
     "none | viewer | operator | admin."),
    ("[access.roles]\nviewer = [\"U0VIEW\"]\nadmin = [\"U0ADMIN\", \"alice\"]\n",
     "line 3: access.roles: 'alice' under roles.admin is not a Slack ID: use user (U.../W...), "
     "user group (S...) or channel (C...) IDs."),
    ("[access.roles]\nviewer = [\"U0VIEW\"]\nroot = [\"U0ROOT\"]\n",
     "line 3: access.roles: unknown role 'root': use one of none | viewer | operator | admin."),
    ("[access]\nchannels = [\"#ops\"]\n",
     "line 2: access.channels: '#ops' is not a channel ID (C..., G... or D...)."),
    ("[hosts.staging]\ntimeout = 3\n", "line 1: hosts.staging.url: required, but missing. Add it."),
    ("[hosts.staging]\nurl = \"tcp://staging:2376\"\ntimout = 3\n",
     "line 3: hosts.staging.timout: unknown key: did you mean timeout? "
     "(config/dockops.example.toml lists every key)."),
    ("[copy]\nmax_bytes = \"1G\"\n",
     'line 2: copy.max_bytes: expected a whole number, got "1G". Write it without quotes, '
     "e.g. max_bytes = 104857600."),
    ("[build]\nroots = [\"srv/builds\"]\n",
     "line 2: build.roots: 'srv/builds' is not an absolute path"),
    ("[registries.\"127.0.0.1:5000\"]\nusername = \"ci\"\npassword_env = \"A\"\n"
     "password_file = \"/run/a\"\n",
     "line 1: registries.127.0.0.1:5000: set password_env or password_file, not both"),
])
def test_each_mistake_is_one_line_naming_the_key_the_problem_and_the_fix(toml: str,
                                                                         expected: str) -> None:
    """`expected` is the whole line, or its start where another module words the fix."""
    (line,) = mistakes(toml)
    assert line.startswith(expected) and line.endswith(".")


def test_several_mistakes_are_all_reported_in_file_order() -> None:
    text = "[slack]\nreply = 'x'\n[limits]\nworkers = 0\nlog_tail = 0\n"
    with pytest.raises(DockopsError) as caught:
        parse_file(text, "dockops.toml")
    assert caught.value.message == "dockops.toml: 3 mistakes in the configuration."
    assert [line.split(":")[0] for line in caught.value.detail.splitlines()] == \
        ["line 2", "line 4", "line 5"]


def test_a_key_is_found_in_its_own_section_not_another_with_the_same_name() -> None:
    text = "[limits]\nworkers = 2\n[hosts.a]\nurl = \"tcp://a:2375\"\ntimeout = \"x\"\n"
    assert mistakes(text)[0].startswith("line 5: hosts.a.timeout: expected a number")


def test_invalid_toml_names_the_line_and_how_values_are_written() -> None:
    with pytest.raises(DockopsError) as caught:
        parse_file("[slack]\nreply = in_channel\n", "dockops.toml")
    assert caught.value.message.startswith("dockops.toml: not valid TOML: ")
    assert "line 2" in caught.value.message and "double quotes" in caught.value.detail


def test_dockops_config_pointing_nowhere_says_so(tmp_path: Path) -> None:
    with pytest.raises(DockopsError) as caught:
        load(EnvSettings(dockops_config=str(tmp_path / "nope.toml")))
    assert "nope.toml, which does not exist" in caught.value.message
    assert "dockops.example.toml" in caught.value.detail


def dockops(tmp_path: Path, config: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "dockops.toml"
    path.write_text(config)
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
    env.update(DOCKOPS_CONFIG=str(path), DOCKOPS_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def test_dockops_check_accepts_the_example(tmp_path: Path) -> None:
    result = dockops(tmp_path, uncommented(example(), tmp_path), "check")
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_dockops_check_and_serve_refuse_a_bad_file_with_one_line_per_mistake(
        tmp_path: Path) -> None:
    bad = "[limits]\nworker = 4\n[slack]\nreply = \"public\"\n"
    for action in ("check", "serve"):
        result = dockops(tmp_path, bad, action)
        assert result.returncode == 2
        assert "2 mistakes in the configuration" in result.stderr
        assert "line 2: limits.worker: unknown key: did you mean workers?" in result.stderr
        assert 'line 4: slack.reply: must be "in_channel" or "ephemeral"' in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was opened
