"""Real, verifiable bundles for the upload tests: one run whose show tech is random (incompressible) bytes.

Built through the store and bundle APIs, so `collector verify` accepts them; `link_bundle` gives a test its own
copy (hard links of the archive and its `.sha256`) with its own upload state beside it.
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

from collector.bundle import build_bundle
from tests.corpus.make_run import RunSpec, StepSpec, make_run

CASE = "694201337"


def make_bundle(directory: Path, payload: int, seed: int, case: str = CASE) -> Path:
    data = random.Random(seed).randbytes(payload)
    run = make_run(directory / "runs", RunSpec(steps=[StepSpec("show tech-support", data)]))
    return build_bundle([run], directory / "out", case=case, redact=None).path


def link_bundle(src: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    dst = directory / src.name
    os.link(src, dst)
    os.link(src.with_name(src.name + ".sha256"), dst.with_name(dst.name + ".sha256"))
    return dst


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()
