"""``jetad.models``: anomaly detectors in PyTorch, trained on jetad feature sets.

- :mod:`.preprocessing`: MaxAbs, Standard, Robust and Quantile→normal, fitted on training data
- :mod:`.networks`: the AE and the VAE (α·MSE + β·KL; also the constituent VAE) with their
  score heads, and the outlier-exposure term
- :mod:`.wnae`: Langevin sampling, the NAE and the WNAE
- :mod:`.hltvae`: the ℓ+X VAE with per-feature likelihoods
- :mod:`.stopping`: the KL-peak and minimum rules for choosing the epoch, the divergence test
- :mod:`.config`: the training settings (each model's published defaults) and results
- :mod:`.training`: deterministic training of single models and seed ensembles, with the
  divergence policy
- :mod:`.stacked`: ensemble members trained together as stacked weight tensors
- :mod:`.heap`: training's freed tensors kept in the heap for reuse (glibc)
- :mod:`.background_flow`: CATHODE's conditional normalizing flow p(x | m_jj)
- :mod:`.export`: one TorchScript file per model, with preprocessing and working points
- :mod:`.metrics`: AUC, SIC, ε_B⁻¹ at ε_S = 0.5
"""

from jetad.models.export import WORKING_POINTS, export, load_metadata, score_matrix
from jetad.models.metrics import figures_of_merit, roc_auc
from jetad.models.stopping import kl_peak_epoch, min_epoch
from jetad.models.training import MODELS, TrainConfig, TrainedModel, TrainingDiverged, train

__all__ = [
    "MODELS",
    "WORKING_POINTS",
    "TrainConfig",
    "TrainedModel",
    "TrainingDiverged",
    "export",
    "figures_of_merit",
    "kl_peak_epoch",
    "load_metadata",
    "min_epoch",
    "roc_auc",
    "score_matrix",
    "train",
]
