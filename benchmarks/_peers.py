"""Peer SDKs, each in a virtual environment of its own made on demand from PyPI.

A peer is a pinned distribution (``openai``, the official ``edgee``) and the
worker kinds that read streams with it (``peer_worker.py``). Its venv lives
under ``benchmarks/.peers/<dist>-<version>/`` (git-ignored) and is made once,
with ``pip install <dist>==<version>``; when that fails (offline, no such
version) the peer is skipped with the reason. Each worker is a long-lived
subprocess, so the runner can interleave it with the in-process readers round
by round; it measures its own CPU time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / ".peers"


@dataclass(frozen=True)
class Peer:
    dist: str
    version: str
    kinds: tuple[str, ...]  # worker kinds in peer_worker.PEERS

    @property
    def venv(self) -> Path:
        return PEERS_DIR / f"{self.dist}-{self.version}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


#: Pinned: a new release is a new venv, never a silent change of the figures.
PEERS = (
    Peer("openai", "3.57.0", ("openai-sync", "openai-async")),
    Peer("edgee", "1.1.0", ("edgee-1.1.0",)),
)


def ensure(peer: Peer, create: bool) -> str | None:
    """Make the peer's venv if needed; return why it cannot be used, or None."""
    stamp = peer.venv / ".installed"
    if stamp.exists():
        return None
    if not create:
        return f"no venv at {peer.venv} (make bench creates it)"
    print(
        f"    (creating {peer.venv.relative_to(HERE.parent)}: pip install "
        f"{peer.dist}=={peer.version})",
        flush=True,
    )
    try:
        if not peer.python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(peer.venv)], check=True, capture_output=True
            )
        subprocess.run(
            [
                str(peer.python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"{peer.dist}=={peer.version}",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or [str(exc)]
        return f"pip install {peer.dist}=={peer.version} failed (offline?): {tail[0]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not create {peer.venv}: {exc}"
    stamp.touch()
    return None


class Worker:
    """A ``peer_worker.py`` subprocess reading streams on request."""

    def __init__(self, peer: Peer, kind: str, base_url: str) -> None:
        self.kind = kind
        self.process = subprocess.Popen(
            [str(peer.python), str(HERE / "peer_worker.py"), kind, base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(PEERS_DIR),  # nothing of this checkout on sys.path but benchmarks/
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "READY":
            self.close()
            raise RuntimeError(f"peer worker {kind} did not start: {line!r}")

    def stream(self, chunks: int, framing: str) -> tuple[float, tuple[int, int]]:
        """(CPU seconds, (chunks, characters)) of one stream read by the peer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"chunks": chunks, "framing": framing}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"peer worker {self.kind} died")
        answer: dict[str, Any] = json.loads(line)
        return answer["cpu"], (answer["chunks"], answer["chars"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(base_url: str, create: bool) -> tuple[dict[str, Worker], dict[str, str]]:
    """Workers for every usable peer kind, and the reason for each one skipped."""
    workers: dict[str, Worker] = {}
    skipped: dict[str, str] = {}
    for peer in PEERS:
        reason = ensure(peer, create)
        for kind in peer.kinds:
            if reason is None:
                try:
                    workers[kind] = Worker(peer, kind, base_url)
                except RuntimeError as exc:
                    skipped[kind] = str(exc)
            else:
                skipped[kind] = reason
    return workers, skipped
