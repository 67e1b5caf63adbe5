"""Observable speed: jetad's columnar kernels against their references, side by side.

    python bench/observables.py [--events 3000] [--efp-reference-jets 1000]

On generated AK8 jets (qcd_dijet reclustered at R = 0.8 and semileptonic tt̄; at least 10k jets
with the defaults), it prints jets/s for

- τ1..τ4 (OnePass-kT), C2 and D2 (β = 1) and soft-drop mass: jetad against fjcontrib through
  scikit-hep fastjet (the C/A clustering fastjet needs is counted in its time); goal ≥ 2×;
- every EFP with d ≤ 5: jetad's batched variable elimination against one einsum per graph per
  jet with a precomputed contraction path (energyflow's algorithm); goal ≥ 100× (issue 12);
- the ``svj8`` observables (τ1..τ3, EFP d = 1, ECFs at β = 0.5, soft drop) with the jets
  flattened once and shared (``flatten_jets``, as the feature set does) against each
  observable flattening them itself (``--svj8-only`` runs just this and the next);
- ``jetad.kinematics`` (on ``vector``, float64) against the same formulas in numpy ufuncs:
  the constituents' four-momenta, the jet mass, Δφ and ΔR to the jet axis
  (``--kinematics-only`` runs just this).

With ``--energyflow-python PY`` (a Python whose environment has energyflow; it pins
numpy < 2, so never jetad's), every EFP with d ≤ 5 is also compared against the energyflow
package itself on the same jets, one core each, through a subprocess
(``bench/_energyflow_efp.py``); ``--energyflow-only`` runs just that.

The per-jet EFP reference runs on a subsample, since its rate does not depend on the jet count.
Samples are generated once into bench/.cache.
"""

from __future__ import annotations

import argparse
import ast
import string
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import awkward as ak
import fastjet
import numpy as np

from jetad.constituents import fatjet_constituents
from jetad.generate import generate
from jetad.observables import (
    efp,
    efp_graphs,
    energy_correlations,
    flatten_jets,
    nsubjettiness,
    soft_drop,
)

CACHE = Path(__file__).parent / ".cache"


def jets_from_samples(events_per_sample: int) -> ak.Array:
    from coffea.nanoevents import NanoEventsFactory, PFNanoAODSchema

    CACHE.mkdir(exist_ok=True)
    samples = []
    for process in ("qcd_dijet", "ttbar"):
        path = CACHE / f"{process}_ak8_{events_per_sample}.root"
        if not path.exists():
            print(f"generating {events_per_sample} {process} events into {path} ...", flush=True)
            generate(process, events_per_sample, seed=5, output=path, jobs=2, fatjet_radius=0.8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            events = NanoEventsFactory.from_root(
                {str(path): "Events"}, schemaclass=PFNanoAODSchema, mode="eager"
            ).events()
        samples.append(ak.flatten(fatjet_constituents(events), axis=1))
    return ak.concatenate(samples)


def rate(n_jets: int, seconds: float) -> str:
    return f"{n_jets / seconds:10.0f} jets/s"


def bench_substructure(jets: ak.Array) -> None:
    nsubjettiness(jets[:5])
    energy_correlations(jets[:5])
    soft_drop(jets[:5])
    timings = {}
    start = time.perf_counter()
    taus = nsubjettiness(jets, nmax=4)
    timings["tau1-4"] = time.perf_counter() - start
    start = time.perf_counter()
    ecf = energy_correlations(jets, beta=1.0)
    timings["C2, D2"] = time.perf_counter() - start
    start = time.perf_counter()
    sd = soft_drop(jets)
    timings["msoftdrop"] = time.perf_counter() - start

    reference = {}
    pt, eta, phi, mass = (
        ak.values_astype(jets[f], np.float64) for f in ("pt", "eta", "phi", "mass")
    )
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    p4 = ak.zip({"px": px, "py": py, "pz": pz, "E": np.sqrt(px**2 + py**2 + pz**2 + mass**2)})
    start = time.perf_counter()
    sequence = fastjet.ClusterSequence(
        p4, fastjet.JetDefinition(fastjet.cambridge_algorithm, 100.0)
    )
    clustering = time.perf_counter() - start
    start = time.perf_counter()
    ref_taus = sequence.njettiness(njets=[1, 2, 3, 4])
    reference["tau1-4"] = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_c2 = sequence.exclusive_jets_energy_correlator(njets=1, func="c2", beta=1.0)
        ref_d2 = sequence.exclusive_jets_energy_correlator(njets=1, func="d2", beta=1.0)
    reference["C2, D2"] = time.perf_counter() - start
    start = time.perf_counter()
    ref_sd = sequence.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, R0=0.8)
    reference["msoftdrop"] = time.perf_counter() - start
    reference["C/A clustering (reference only)"] = clustering

    def worst(ours, ref, atol=0.0):
        ours, ref = np.asarray(ak.to_numpy(ours)).ravel(), np.asarray(ak.to_numpy(ref)).ravel()
        ok = np.abs(ref) > atol
        return np.max(np.abs(ours[ok] / ref[ok] - 1))

    print(f"\nsubstructure on {len(jets)} jets, mean {ak.mean(ak.num(jets)):.0f} constituents")
    print(f"{'observable':32s} {'jetad':>16s} {'fastjet/fjcontrib':>18s} {'ratio':>7s}")
    for name in ("tau1-4", "C2, D2", "msoftdrop"):
        print(
            f"{name:32s} {rate(len(jets), timings[name])} {rate(len(jets), reference[name])}  "
            f"{reference[name] / timings[name]:6.1f}x"
        )
    ours_total = sum(timings.values())
    ref_total = sum(reference.values())
    print(
        f"{'combined (reference incl. C/A)':32s} {rate(len(jets), ours_total)} "
        f"{rate(len(jets), ref_total)}  {ref_total / ours_total:6.1f}x   (goal >= 2x)"
    )
    print(
        f"max relative difference: tau {worst(taus, ref_taus, 1e-12):.1e}, "
        f"C2 {worst(ecf.c2, ak.flatten(ref_c2, axis=None)):.1e}, "
        f"D2 {worst(ecf.d2, ak.flatten(ref_d2, axis=None)):.1e}, "
        f"msoftdrop {worst(sd.msoftdrop, ak.flatten(ref_sd.msoftdrop, axis=None), 1e-3):.1e}"
    )


def per_jet_einsum(jets: ak.Array, graphs) -> np.ndarray:
    """energyflow's algorithm: per jet, one einsum per prime graph with a precomputed path."""
    letters = string.ascii_letters
    primes = sorted({c for g in graphs for c in g.components if c})
    specs = {}
    for edges in primes:
        n = 1 + max(b for _, b in edges)
        subscripts = ",".join(
            [letters[v] for v in range(n)] + [letters[a] + letters[b] for a, b in edges]
        )
        specs[edges] = (subscripts + "->", n)
    paths = {}
    out = np.empty((len(jets), len(graphs)))
    for k, jet in enumerate(jets):
        pt = np.asarray(jet.pt, dtype=np.float64)
        eta, phi, mass = (np.asarray(jet[f], dtype=np.float64) for f in ("eta", "phi", "mass"))
        rap = np.arcsinh(pt * np.sinh(eta) / np.sqrt(pt**2 + mass**2))
        z = pt / pt.sum()
        dphi = np.abs(phi[:, None] - phi[None, :])
        dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
        theta = np.hypot(rap[:, None] - rap[None, :], dphi)
        values = {}
        for edges, (subscripts, n) in specs.items():
            operands = [z] * n + [theta] * len(edges)
            key = (edges, len(z))
            if key not in paths:
                paths[key] = np.einsum_path(subscripts, *operands, optimize="greedy")[0]
            values[edges] = np.einsum(subscripts, *operands, optimize=paths[key])
        for column, graph in enumerate(graphs):
            out[k, column] = np.prod([values[c] for c in graph.components if c])
    return out


def bench_efp(jets: ak.Array, reference_jets: int) -> None:
    graphs = efp_graphs("d<=5")
    efp(jets[:5])
    start = time.perf_counter()
    efp(jets, "d<=5")
    seconds = time.perf_counter() - start
    sample = jets[:: max(1, len(jets) // reference_jets)][:reference_jets]
    start = time.perf_counter()
    reference = per_jet_einsum(sample, graphs)
    ref_seconds = time.perf_counter() - start
    ours_sample = ak.to_numpy(efp(sample, "d<=5"))
    difference = np.max(np.abs(ours_sample - reference) / np.maximum(np.abs(reference), 1e-300))
    print(f"\nEFP d<=5 ({len(graphs)} graphs)")
    print(f"{'jetad batched':32s} {rate(len(jets), seconds)}   ({len(jets)} jets)")
    print(
        f"{'per-jet einsum (energyflow alg.)':32s} {rate(len(sample), ref_seconds)}   "
        f"({len(sample)} jets)"
    )
    print(
        f"{'ratio':32s} {(len(jets) / seconds) / (len(sample) / ref_seconds):10.1f}x  "
        f"(goal >= 100x); max relative difference {difference:.1e}"
    )


def _prime_components(edges: list[tuple[int, int]]) -> tuple:
    """A graph as the sorted canonical edge lists of its connected components (the key of
    :class:`~jetad.observables.efp_graphs.Graph`'s ``components``)."""
    from jetad.observables.efp_graphs import _canonical

    if not edges:
        return ((),)
    vertices = sorted({v for e in edges for v in e})
    group = {v: v for v in vertices}

    def root(v):
        while group[v] != v:
            v = group[v]
        return v

    for a, b in edges:
        group[root(a)] = root(b)
    components = {}
    for a, b in edges:
        components.setdefault(root(a), []).append((a, b))
    found = []
    for component in components.values():
        labels = {v: k for k, v in enumerate(sorted({v for e in component for v in e}))}
        relabelled = tuple(tuple(sorted((labels[a], labels[b]))) for a, b in component)
        found.append(_canonical(relabelled, len(labels)))
    return tuple(sorted(found))


def bench_energyflow(jets: ak.Array, python: str, n_jets: int) -> None:
    """jetad's EFPs against the energyflow package itself, on the same jets, one core each
    (energyflow in its own environment, through ``_energyflow_efp.py``)."""
    from threadpoolctl import threadpool_limits

    from jetad.observables._batch import flatten_jets

    sample = jets[:n_jets]
    batch = flatten_jets(sample).batch
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "jets.npz", Path(tmp) / "efp.npz"
        np.savez(source, counts=np.diff(batch.offsets), pt=batch.pt, rap=batch.rap,
                 phi=batch.phi)  # fmt: skip
        script = Path(__file__).with_name("_energyflow_efp.py")
        subprocess.run([python, str(script), str(source), str(target)], check=True)
        theirs = dict(np.load(target))
    with threadpool_limits(1):
        efp(sample[:5])
        start = time.perf_counter()
        ours = ak.to_numpy(efp(sample, "d<=5"))
        seconds = time.perf_counter() - start
    columns = {tuple(sorted(g.components)): k for k, g in enumerate(efp_graphs("d<=5"))}
    order = [columns[_prime_components(ast.literal_eval(str(t)))] for t in theirs["edges"]]
    reference = theirs["values"]
    mine = ours[:, order]
    difference = np.max(np.abs(mine - reference) / np.maximum(np.abs(reference), 1e-300))
    print(f"\nEFP d<=5 against energyflow {theirs['version']} (one core each, {len(sample)} jets)")
    print(f"{'jetad batched':32s} {rate(len(sample), seconds)}")
    print(f"{'energyflow EFPSet.batch_compute':32s} {rate(len(sample), float(theirs['seconds']))}")
    print(f"{'ratio':32s} {float(theirs['seconds']) / seconds:10.1f}x; "
          f"max relative difference {difference:.1e}")  # fmt: skip


def bench_svj8(jets: ak.Array, repeats: int = 3) -> None:
    def observables(source):
        return (nsubjettiness(source, nmax=3), efp(source, "d==1"),
                energy_correlations(source, beta=0.5, with_n2=False),
                soft_drop(source))  # fmt: skip

    def best(run) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    observables(jets[:5])  # compile the kernels first
    events = ak.unflatten(jets, np.full(len(jets) // 2, 2))  # events × 2 jets, as in svj8
    apart = best(lambda: observables(events))
    shared = best(lambda: observables(flatten_jets(events)))
    same = all(ak.array_equal(a, b, equal_nan=True)
               for a, b in zip(observables(events), observables(flatten_jets(events)),
                               strict=True))  # fmt: skip
    print(f"\nsvj8 observables on {2 * (len(jets) // 2)} jets (events × 2 jets):")
    print(f"  each flattening its own  {rate(len(events) * 2, apart)}")
    print(f"  one shared flattening    {rate(len(events) * 2, shared)}   "
          f"ratio {apart / shared:.2f}x   identical: {same}")


def bench_kinematics(jets: ak.Array, repeats: int = 7) -> None:
    """Each kinematic operation on ``vector``'s records against the same formula in numpy
    ufuncs, float64, interleaved, best of ``repeats``; ``jetad.kinematics`` takes the faster
    (checked here: it equals that row's result)."""
    import jetad.kinematics as kinematics
    from jetad.kinematics import summed, vectors

    def ufunc_four_momenta():  # jetad's own ufuncs, kinematics.cartesian
        return kinematics.cartesian(*(ak.values_astype(jets[f], np.float64)
                                      for f in ("pt", "eta", "phi", "mass")))  # fmt: skip

    def vector_four_momenta():
        p4 = vectors("Momentum4D", **{f: ak.values_astype(jets[f], np.float64)
                                      for f in ("pt", "eta", "phi", "mass")})  # fmt: skip
        return p4.px, p4.py, p4.pz, p4.E

    def ufunc_delta_phi(phi1, phi2):
        return (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi

    px, py, pz, energy = summed(vectors("Momentum4D", **dict(zip(
        ("px", "py", "pz", "E"), ufunc_four_momenta(), strict=True))))  # fmt: skip
    def sums():  # built inside each timed call, as jetad.kinematics does
        return vectors("Momentum4D", px=px, py=py, pz=pz, E=energy)

    axis = sums()
    jet_eta, jet_phi = axis.eta, axis.phi  # each constituent against its jet's axis
    eta, phi = (ak.values_astype(jets[f], np.float64) for f in ("eta", "phi"))
    one = {"rho": 1.0}
    rows = {  # name: (vector, ufuncs, jetad.kinematics)
        "four-momenta of the constituents": (
            lambda: vector_four_momenta()[3],
            lambda: ufunc_four_momenta()[3],
            lambda: kinematics.four_momenta(jets).E,
        ),
        "jet mass (of the constituent sums)": (
            lambda: np.sqrt(np.maximum(sums().mass2, 0.0)),
            lambda: np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0)),
            lambda: kinematics.invariant_mass(px, py, pz, energy),
        ),
        "jet pt, eta, phi (of the sums)": (
            lambda: (lambda p4: p4.pt + p4.eta + p4.phi)(sums()),
            lambda: (lambda pt: pt + np.arcsinh(pz / pt) + np.arctan2(py, px))(np.hypot(px, py)),
            lambda: sum(kinematics.ptetaphim(px, py, pz, energy)[k] for k in ("pt", "eta", "phi")),
        ),
        "Δφ(constituent, jet axis)": (
            lambda: vectors("Vector2D", **one, phi=phi).deltaphi(
                vectors("Vector2D", **one, phi=jet_phi)),
            lambda: ufunc_delta_phi(phi, jet_phi),
            lambda: kinematics.delta_phi(phi, jet_phi),
        ),
        "ΔR(constituent, jet axis)": (
            lambda: vectors("Vector3D", **one, eta=eta, phi=phi).deltaR(
                vectors("Vector3D", **one, eta=jet_eta, phi=jet_phi)),
            lambda: np.sqrt((eta - jet_eta) ** 2 + ufunc_delta_phi(phi, jet_phi) ** 2),
            lambda: kinematics.delta_r(eta, phi, jet_eta, jet_phi),
        ),
    }  # fmt: skip
    print(f"\nkinematics on {len(jets)} jets, {ak.sum(ak.num(jets))} constituents, float64 "
          "(vector's records against the same formula in numpy ufuncs):")
    for name, runs in rows.items():
        times, results = [[], [], []], [None] * 3
        for _ in range(repeats):  # interleaved, so a slow spell of the machine hits every one
            for k, run in enumerate(runs):
                start = time.perf_counter()
                results[k] = ak.to_numpy(ak.flatten(run(), axis=None))
                times[k].append(time.perf_counter() - start)
        (t_vector, t_ufuncs, _), (vector_result, ufunc_result, ours) = map(min, times), results
        scale = np.maximum(np.abs(ufunc_result), 1.0)  # relative above 1 (GeV, rad), else absolute
        difference = np.max(np.abs(vector_result - ufunc_result) / scale)
        uses = "vector" if t_vector < t_ufuncs else "ufuncs"
        same = np.array_equal(ours, vector_result if uses == "vector" else ufunc_result)
        print(f"  {name:<35} vector {t_vector * 1e3:6.2f} ms  ufuncs {t_ufuncs * 1e3:6.2f} ms  "
              f"vector's speed {t_ufuncs / t_vector:.2f}x  largest difference {difference:.0e}  "
              f"jetad.kinematics = {uses if same else 'neither (!)'}")
    float32 = vectors("Momentum4D", **{f: jets[f] for f in ("pt", "eta", "phi", "mass")})
    mass32 = ak.to_numpy(ak.sum(float32, axis=-1).mass)
    mass64 = ak.to_numpy(kinematics.invariant_mass(px, py, pz, energy))
    print(f"  jet mass with vector in NanoAOD's float32: largest |difference| "
          f"{np.max(np.abs(mass32 - mass64)):.2f} GeV from float64")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="events per sample")
    parser.add_argument("--efp-reference-jets", type=int, default=1000)
    parser.add_argument("--svj8-only", action="store_true")
    parser.add_argument("--kinematics-only", action="store_true")
    parser.add_argument("--energyflow-python", metavar="PY",
                        help="a Python with energyflow installed (its own venv: it pins "
                             "numpy < 2), to compare the EFPs against the package itself")
    parser.add_argument("--energyflow-jets", type=int, default=2000)
    parser.add_argument("--energyflow-only", action="store_true")
    args = parser.parse_args()
    jets = jets_from_samples(args.events)
    if args.energyflow_python:
        bench_energyflow(jets, args.energyflow_python, args.energyflow_jets)
        if args.energyflow_only:
            return
    if not args.kinematics_only:
        bench_svj8(jets[: 2 * (len(jets) // 2)])
    bench_kinematics(jets)
    if args.kinematics_only:
        return
    if args.svj8_only:
        return
    bench_substructure(jets)
    bench_efp(jets, args.efp_reference_jets)


if __name__ == "__main__":
    main()
