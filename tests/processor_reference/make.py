"""Write the processors' reference histograms, against which refactors are checked bit for bit.

    python tests/processor_reference/make.py            # models and histograms
    python tests/processor_reference/make.py --keep-models

Small models are trained once on the committed fixtures and committed with the histograms
(``models/``); the histograms are those of the dijet, semivisible-jet and ℓ+X processors run
over the fixtures with coffea's iterative executor (``histograms.npz``). Regenerate only when a
change of behaviour is intended, and say so in the commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "datasets" / "fixtures"
MODELS = HERE / "models"
#: analysis: (feature set, model kind, training fixture, fixtures it runs on)
ANALYSES = {
    "dijet": ("lhco", "ae", "qcd_dijet", ("qcd_dijet", "wprime_xy")),
    "svj": ("svj8", "ae", "ttbar", ("svj", "ttbar")),
    "lepton": ("hlt21", "hltvae", "wjets", ("wjets", "zjets")),
}


def train_models() -> None:
    from jetad.datasets import feature_rows
    from jetad.features import get_feature_set
    from jetad.models import TrainConfig, export, train

    MODELS.mkdir(exist_ok=True)
    for analysis, (features, kind, fixture, _) in ANALYSES.items():
        feature_set = get_feature_set(features)
        x, summary = feature_rows(feature_set, [FIXTURES / f"{fixture}.root"])
        config = TrainConfig.for_model(kind, epochs=3, seed=7)
        trained = train(x, config, features=feature_set.names)
        summary["files"] = [f"{fixture}.root"]  # as `jetad train` records it, machine-free
        export(trained, MODELS / f"{analysis}.pt", features, feature_set.names,
               extra={"data": summary})  # fmt: skip


def processor_histograms() -> dict[str, np.ndarray]:
    """``{"ANALYSIS/OUTPUT/CATEGORY…": values and variances}`` of every histogram."""
    import hist
    from jetad.processors import (
        DijetAnomalyProcessor,
        LeptonTriggerProcessor,
        SemivisibleJetProcessor,
    )

    from jetad.analysis import run_processor

    classes = {"dijet": DijetAnomalyProcessor, "svj": SemivisibleJetProcessor,
               "lepton": LeptonTriggerProcessor}  # fmt: skip
    from jetad.datasets import load_fileset

    fixtures_fileset = load_fileset(ROOT / "datasets" / "filesets" / "fixtures.json")
    arrays = {}
    for analysis, (_, _, _, fixtures) in ANALYSES.items():  # weighted: xsec, Σw from the files
        fileset = {f: fixtures_fileset[f] for f in fixtures}
        instance = classes[analysis]({"model": str(MODELS / f"{analysis}.pt")})
        output = run_processor(instance, fileset, executor="iterative", status=False)

        def walk(prefix, node):
            if isinstance(node, hist.Hist):
                axes = ";".join(
                    f"{a.name}=" + (",".join(map(str, a)) if isinstance(
                        a, hist.axis.StrCategory) else ",".join(map(repr, a.edges)))
                    for a in node.axes
                )  # fmt: skip
                arrays[f"{prefix}|axes"] = np.array(axes)
                arrays[f"{prefix}|values"] = node.values(flow=True)
                variances = node.variances(flow=True)
                if variances is not None:
                    arrays[f"{prefix}|variances"] = variances
            elif isinstance(node, dict):
                for key in sorted(node):
                    walk(f"{prefix}/{key}", node[key])

        walk(analysis, {k: v for k, v in output.items() if k not in ("cutflow", "processed")})
        for dataset, counts in sorted(output["cutflow"].items()):
            for name, value in counts.items():
                arrays[f"{analysis}/cutflow/{dataset}/{name}"] = np.array(value)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-models", action="store_true")
    args = parser.parse_args()
    if not args.keep_models:
        train_models()
    np.savez_compressed(HERE / "histograms.npz", **processor_histograms())
    print(f"wrote {HERE / 'histograms.npz'}", file=sys.stderr)


if __name__ == "__main__":
    main()
