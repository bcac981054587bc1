"""A MkDocs hook (mkdocs.yml ``hooks:``): the safety case page is generated at every docs build.

The page (``safety/case.md``) is made from docs/safety/hazards.yaml, the clinical reference and the
core's cited values, and added to the build's files without being written into docs/: it cannot go
stale in the repository. The last ``make test`` run's results are used when present. Offline and
deterministic for a given checkout and run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

from kapstone.safety_case import cli, document, results

PAGE = "safety/case.md"


def on_files(files: Files, config: Any) -> Files:
    root = Path(config["config_file_path"]).resolve().parent
    results_file = root / cli.RESULTS
    run = results.read(results_file) if results_file.is_file() else None
    text = document.markdown(document.blocks(cli.inputs(root, run)))
    existing = files.get_file_from_path(PAGE)
    if existing is not None:  # a copy written by hand into docs/: the generated page wins
        files.remove(existing)
    files.append(File.generated(config, PAGE, content=text))
    return files
