"""Usage errors that say what was wrong and what was meant, in the verb's own words.

argparse knows a mistyped verb or flag but answers with every choice, with the top-level help
for a verb's flag, or (for `--too dev`) only with the required `--to` it then missed. This
parser names the unknown word, suggests the nearest verb or flag of that verb (difflib, plus a
few synonyms people type), points at `pipeline <verb> --help`, and raises `UsageError` instead
of writing, so the CLI reports it like every other error: one line on stderr, one JSON document
on stdout under `--output json`, exit 2. Standard library only: this runs on every start.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from pipeline.errors import EXIT_USAGE

# words people type for a verb or a flag that has another name here
VERB_SYNONYMS = {"deploy": "promote", "release": "promote", "revert": "rollback", "undo": "rollback",
                 "log": "history", "logs": "history", "lint": "validate", "check": "validate", "upload": "stage",
                 "push": "stage", "list": "artifacts", "ls": "artifacts", "preflight": "doctor"}
# (a flag's meaning depends on the verb: the first of these the verb has is suggested)
FLAG_SYNONYMS = {"--env": ("--to",), "--environment": ("--env", "--to"), "--target": ("--to", "--env"),
                 "--sha": ("--artifact",), "--digest": ("--artifact",), "--yes": ("--approve",),
                 "--dryrun": ("--dry-run",), "--plan": ("--dry-run",)}
_CHOICE = (r"^argument (?P<arg>[^:]+): invalid choice: (?P<q>['\"]?)(?P<value>.*?)(?P=q) "
           r"\(choose from (?P<choices>.*)\)$")  # compiled on the error path only
_REQUIRED = "the following arguments are required"


class UsageError(SystemExit):
    """Bad usage: exit 2. `message` is the one line to report (the CLI writes it, as text or JSON)."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_USAGE)
        self.message = message


def nearest(word: str, options: Sequence[str], synonyms: dict[str, Any] | None = None) -> str | None:
    """The option `word` most likely meant: a known synonym, else the closest spelling (or None)."""
    import difflib  # only on the error path: every start imports this module

    meant = (synonyms or {}).get(word) or ()
    for candidate in (meant,) if isinstance(meant, str) else meant:
        if candidate in options:
            return str(candidate)
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


class Parser(argparse.ArgumentParser):
    """argparse with the errors above; every subparser is one of these too (add_subparsers' default)."""

    _seen: list[str]

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        self._seen = list(sys.argv[1:] if args is None else args)  # what this (sub)parser was given
        return super().parse_known_args(args, namespace)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # left over by the verb's own parser: its error, its help
            owner = self._chosen(parsed)
            owner.error(owner._unknown(extras))
        return parsed

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith(_REQUIRED):
            unknown = self._unknown_options(getattr(self, "_seen", []))
            if unknown:  # `--too dev`: the typo is the news, not the --to it then lacked
                message = self._unknown(unknown)
        else:
            message = self._choice(message)
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    # -- helpers ---------------------------------------------------------------------------
    def _chosen(self, parsed: argparse.Namespace) -> Parser:
        """The deepest subparser the arguments chose (`pipeline sandbox up` -> the `up` parser)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(sub, Parser):
                    return sub._chosen(parsed)
        return self

    def _long_options(self) -> list[str]:
        return sorted({o for a in self._actions for o in a.option_strings if o.startswith("--")
                       and a.help is not argparse.SUPPRESS})

    def _unknown_options(self, tokens: Sequence[str]) -> list[str]:
        known = self._option_string_actions
        unknown = []
        for token in tokens:
            if token == "--":
                break
            if not token.startswith("-") or re.match(r"^-\d", token):
                continue
            name = token.split("=", 1)[0]
            if name in known or (name.startswith("--") and any(o.startswith(name) for o in known)):
                continue
            unknown.append(name)
        return unknown

    def _unknown(self, extras: Sequence[str]) -> str:
        flags = [e.split("=", 1)[0] for e in extras if e.startswith("-")]
        if not flags:
            hint = ""
            if len(extras) == 1 and "--env" in self._long_options():  # `status dev`
                hint = f" (did you mean --env {extras[0]}?)"
            return f"unexpected argument{'s' if len(extras) > 1 else ''}: {' '.join(extras)}{hint}"
        parts = []
        for flag in flags:
            meant = nearest(flag, self._long_options(), FLAG_SYNONYMS)
            parts.append(f"{flag}" + (f" (did you mean {meant}?)" if meant else ""))
        return f"unrecognized option{'s' if len(flags) > 1 else ''}: {', '.join(parts)}"

    def _choice(self, message: str) -> str:
        found = re.match(_CHOICE, message)
        if not found:
            return message
        choices = [c.strip().strip("'\"") for c in found["choices"].split(",")]
        value = found["value"]
        verb = found["arg"] == "COMMAND"
        meant = nearest(value, choices, VERB_SYNONYMS if verb else None)
        if verb:
            return f"unknown command {value!r} " + (f"(did you mean {meant!r}?)" if meant
                                                    else f"(commands: {', '.join(choices)})")
        if meant is None:
            return message
        return f"argument {found['arg']}: invalid choice: {value!r} (did you mean {meant!r}?)"


def output_format(argv: Sequence[str]) -> str:
    """What `--output` the command line asked for, read without a parse (the parse is what failed)."""
    fmt = "text"
    for i, token in enumerate(argv):
        if token == "--output" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif token.startswith("--output="):
            fmt = token.split("=", 1)[1]
    return "json" if fmt == "json" else "text"
