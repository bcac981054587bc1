"""``kapstone score INSTRUMENT --answers JSON``: score one questionnaire, without Django.

stdout: one JSON object {"instrument", "total", "severity", "subscales", "flags"}, exit 0.
Anything wrong (unknown instrument, unreadable or unparsable answers, bad answers): exit 2 and a
JSON list of problems {"item", "problem", "accepts"} on stderr, naming every offending item.
``--answers @path.json`` reads the answers from a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn

from kapstone.clinical.instruments import (
    INSTRUMENTS,
    AnswerErrors,
    AnswerProblem,
    UnknownInstrument,
    score,
)
from kapstone.commands._json import JsonRefused, load

BAD_INPUT = 2


class _Refused(Exception):
    def __init__(self, *problems: AnswerProblem) -> None:
        self.problems = problems
        super().__init__(problems)


class _JsonArgumentParser(argparse.ArgumentParser):
    """Usage errors go out in the same JSON shape as every other refusal."""

    def error(self, message: str) -> NoReturn:
        raise _Refused(AnswerProblem(None, message, self.format_usage().strip()))


def _parser() -> argparse.ArgumentParser:
    parser = _JsonArgumentParser(
        prog="kapstone score",
        description="Score a validated questionnaire and print the result as JSON.",
    )
    parser.add_argument("instrument", help="one of " + ", ".join(INSTRUMENTS))
    parser.add_argument(
        "--answers",
        required=True,
        help='JSON object of item -> answer, e.g. \'{"1": 2, "2": 0}\', or @path/to/answers.json',
    )
    return parser


def _load_answers(raw: str) -> dict[str, object]:
    source = "--answers"
    if raw.startswith("@"):
        path = Path(raw[1:])
        source = str(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _Refused(
                AnswerProblem(None, f"cannot read {path}: {error}", "a readable JSON file")
            ) from error
    try:
        answers = load(raw)
    except JsonRefused as error:
        raise _Refused(
            AnswerProblem(None, f"{source} is {error}", 'a JSON object {"1": 2}')
        ) from None
    if not isinstance(answers, dict):
        raise _Refused(
            AnswerProblem(
                None,
                f"{source} is JSON but not an object",
                'a JSON object of item -> answer, e.g. {"1": 2}',
            )
        )
    return answers


def _refuse(problems: tuple[AnswerProblem, ...]) -> int:
    print(json.dumps([p.as_dict() for p in problems], ensure_ascii=False), file=sys.stderr)
    return BAD_INPUT


def run(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.instrument not in INSTRUMENTS:
            raise UnknownInstrument(args.instrument, tuple(INSTRUMENTS))
        answers = _load_answers(args.answers)
        # The scorer re-checks every value's type; JSON gives only str keys.
        result = score(args.instrument, answers)  # type: ignore[arg-type]
    except _Refused as refused:
        return _refuse(refused.problems)
    except UnknownInstrument as unknown:
        return _refuse((unknown.problem,))
    except AnswerErrors as errors:
        return _refuse(errors.problems)
    print(json.dumps(result.summary(), ensure_ascii=False))
    return 0
