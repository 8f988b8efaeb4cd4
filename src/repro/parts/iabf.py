"""IABF: infomax and adversarial bit flips, with the ABF ablation: notebook ``03_iabf``, declared once (issue 24): its
settings (name, type, range, choices), profiles, fixed values and dataset runs. Its jobs and evaluation are
:mod:`repro.experiments.iabf`, its figures :mod:`repro.plots.iabf`."""

from __future__ import annotations

from repro.parts.setting import (
    BSC_EPS,
    DATA_DIR,
    DEVICE,
    INF,
    OUTPUT_DIR,
    PLATEAU,
    PRECISION,
    PROFILE,
    SEEDS,
    THREADS,
    Part,
    S,
    count,
)

SETTINGS = (
    PROFILE, S("dataset", "str", choices=("binary_mnist", "mnist", "omniglot", "cifar10")), DEVICE, OUTPUT_DIR,
    DATA_DIR, count("epochs"), count("sweep_epochs"), count("n_train"), count("n_val"), count("n_test"),
    S("eps_values", "list[float]", *BSC_EPS), SEEDS, S("extra_seeds", "list[int]", 0, INF, may_be_empty=True),
    S("extra_seed_eps", "float", *BSC_EPS), S("infomax_weight", "float", 0, INF),
    S("lambda_sweep", "list[float]", 0, INF), S("abf_masked_check", "bool"), S("abf_noise_check", "bool"),
    count("chain_steps"),
    count("chain_starts"), count("chain_count"), S("official_check", "bool"),
    S("official_main_check", "bool"), THREADS, PRECISION, PLATEAU,
    count("min_epochs"), count("ablation_epochs"),
)

PROFILES = {
    "smoke": dict(threads=1,
                  epochs=1, sweep_epochs=None, stop_plateau=None, min_epochs=None, ablation_epochs=None,
                  n_train=300, n_val=100, n_test=200, eps_values=[0.1], seeds=[0],
                  extra_seeds=[], lambda_sweep={"mnist": [0.1]}, abf_masked_check={"mnist": True},
                  abf_noise_check={"mnist": True}, chain_steps=3, chain_starts=4, chain_count=6, official_check=True,
                  official_main_check={"mnist": True}),
    # cpu budgets. MNIST's main point (eps 0.1, 3 seeds, full training set; issue 22) has the converge budget: at most
    # 100 epochs, stopping earlier once the validation distortion improved by < 1 % over the last quarter of the epochs
    # (the plateau rule of shared/CLAIMS.md), not before 10. Each of the three ways CLAIMS.md counts a model converged
    # can end it: within 10 % of the paper, a plateau, or 100 epochs = half the paper's 200 (compute_fraction 0.5). A
    # first budget of 40 epochs (sized from a calibration that put NECST at the paper + 10 % after 34-40 epochs) left
    # ABF and IABF 18-20 % above the paper and still improving 2-3 % per quarter; the longer budget extends those runs
    # (`fit` continues a complete shorter run of the same configuration: constant learning rate, epochs seeded by
    # number, so it is a prefix). Omniglot's main point has the same converge rule (issue 22, item 2) with a cap of
    # 141 epochs: our Omniglot training split has 17,352 images against the paper's 24,345, so 100 epochs were only
    # 0.36 of the paper's training in images seen, and 141 is the fewest that reach half of it (CLAIMS.md's third
    # way to converge); ABF and IABF still improved 1.7 % per quarter at 100. Binary MNIST keeps the issue-13 budget
    # (8 epochs), whose models land within 10 % of the paper in its unit (bce_per_pixel). The other eps values:
    # `-p eps_values [0.1,0.2,0.3,0.4]` adds them with one seed at `sweep_epochs`. The one-seed ablations at MNIST eps
    # 0.1 (the official code's ABF / IABF, ABF spending its whole budget on the attacked bits, the paper's lambda grid)
    # and the seed-0 models they are compared with train for `ablation_epochs` (8); the official-code check runs at
    # that budget for all three seeds (iabf.official_tc_defect's rule needs 3), and at the main budget for seed 0
    # (`official_main_check`: what the official code's ABF / IABF reach on a plateau, beside Table 1). CIFAR-10 keeps
    # the committed conv budget.
    "cpu": dict(threads=1, epochs={"binary_mnist": 8, "mnist": 100, "omniglot": 141, "cifar10": 3},
                sweep_epochs={"binary_mnist": 2, "mnist": 2, "omniglot": 3},
                stop_plateau={"mnist": 0.01, "omniglot": 0.01}, min_epochs={"mnist": 10, "omniglot": 10},
                ablation_epochs={"mnist": 8},
                n_train={"cifar10": 3000}, n_val={"cifar10": 1000}, n_test={"cifar10": 2000},
                eps_values={"binary_mnist": [0.1], "mnist": [0.1], "omniglot": [0.1], "cifar10": [0.1, 0.3]},
                seeds=[0], extra_seeds={"binary_mnist": [1, 2], "mnist": [1, 2], "omniglot": [1, 2]},
                lambda_sweep={"mnist": [0.1, 0.01, 0.001]}, abf_masked_check={"mnist": True},
                abf_noise_check={"mnist": True}, chain_steps=10, chain_starts=8, chain_count=100, official_check=True,
                official_main_check={"mnist": True}),
    "paper": dict(threads=None,
                  epochs={"binary_mnist": 200, "mnist": 200, "omniglot": 200, "cifar10": 500}, sweep_epochs=None,
                  stop_plateau=None, min_epochs=None, ablation_epochs=None,
                  n_train=None, n_val=None, n_test=None, eps_values=[0.1, 0.2, 0.3, 0.4], seeds=[0, 1, 2],
                  extra_seeds=[], lambda_sweep=[0.1, 0.01, 0.001], abf_masked_check=True,
                  abf_noise_check=True, chain_steps=20, chain_starts=8, chain_count=100, official_check=True,
                  official_main_check=True),
}

# the paper's settings that no profile changes
FIXED = dict(precision="auto", batch_size=100, lr=1e-3, infomax_weight=0.01, extra_seed_eps=0.1,
             figure3_eps=0.1)

PART = Part(notebook="03_iabf", paper="iabf",
            title="IABF: infomax and adversarial bit flips, with the ABF ablation",
            runs=("mnist", "binary_mnist", "omniglot", "cifar10"),
            settings=SETTINGS, profiles=PROFILES, fixed=FIXED,
            jobs="repro.experiments.iabf:plan", plots="repro.plots.iabf")
