"""The generated samples the benches share, made once and cached in ``bench/.cache``.

A sample is named by process, event count, seed and fat-jet radius, so every bench that asks
for the same one reads the same file. Delete ``bench/.cache`` to regenerate. By hand:

    jetad generate qcd_dijet --events 100000 --seed 1 --jobs 2 \\
        --output bench/.cache/qcd_dijet_100000_seed1_R1.0.root
"""

from __future__ import annotations

from pathlib import Path

CACHE = Path(__file__).parent / ".cache"


def sample(process: str, events: int, seed: int = 1, radius: float = 1.0, jobs: int = 2) -> Path:
    """The path of a cached ``process`` sample, generating it first when absent."""
    from jetad.generate import generate

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{process}_{events}_seed{seed}_R{radius:.1f}.root"
    if not path.exists():
        print(f"generating {events} {process} events into {path} ...", flush=True)
        generate(process, events, seed=seed, output=path, jobs=jobs, fatjet_radius=radius)
    return path
