"""Record what the communication systems, channels and evaluators return on small random models, so that a later
change of their APIs can be checked to give the same numbers (tests/test_systems.py).

Run once with the APIs of the commit that adds ``system_outputs.pt`` (before the one-protocol change):
    PYTHONPATH=src python tests/data/record_system_outputs.py
"""

from pathlib import Path

import torch

from repro import bandwidth_pipeline as bp
from repro import necst_pipeline as necst
from repro.channels import BinaryErasureChannel, BinarySymmetricChannel, flip_bytes
from repro.channels_continuous import AWGNChannel, BandwidthLimitedChannel
from repro.code_priors import StandardGaussianPrior, make_prior
from repro.experiments import bandwidth as bw
from repro.models.jscc import BinaryJointSystem, ChannelAutoencoder, JointSystem, SourceVAE
from repro.relaxed_binary import RelaxedBinarySymmetricChannel


def g(seed):
    return torch.Generator().manual_seed(seed)


def record() -> dict:
    torch.set_num_threads(1)
    out = {}
    # ---- channels
    bits = torch.randint(0, 2, (6, 40), generator=g(0)).float()
    out["bsc_0.2"] = BinarySymmetricChannel(0.2)(bits, g(1))
    out["bsc_0.0"] = BinarySymmetricChannel(0.0)(bits, g(1))
    out["bsc_bool"] = BinarySymmetricChannel(0.3)(bits.bool(), g(2))
    out["bec_0.3"] = BinaryErasureChannel(0.3)(bits, g(3))
    out["flip_bytes"] = torch.tensor(list(flip_bytes(bytes(range(64)), 0.1, g(4))))
    y = 3 * torch.randn(5, 10, generator=g(5))
    out["awgn"] = AWGNChannel(2.0)(y, g(6))
    blc = BandwidthLimitedChannel(0.5, 5)
    out["blc_z"], out["blc_bw"] = blc(y, None, StandardGaussianPrior(2, 5), g(7))
    out["blc_z_b2"], _ = blc(y, 2, StandardGaussianPrior(2, 5), g(8))
    out["relaxed_bsc"] = RelaxedBinarySymmetricChannel(0.1, 0.5)(torch.rand(4, 8, generator=g(9)), g(10))
    out["channel_check"] = torch.tensor(bw.channel_check(snrs_db=(-5.0, 5.0), n=500, k=20).to_numpy(dtype=float))

    # ---- NECST
    torch.manual_seed(11)
    model = necst.build_model("binary_mnist", eps=0.1, bits=30)
    xb = torch.rand(6, 1, 28, 28, generator=g(12)).round()
    out["necst_transmit_default"] = model.transmit(xb, generator=g(13))
    out["necst_transmit_eps0.3"] = model.transmit(xb, eps=0.3, generator=g(13))
    out["necst_transmit_eps0"] = model.transmit(xb, eps=0.0, generator=g(13))
    out["necst_transmit_threshold"] = model.transmit(xb, eps=0.2, mode="threshold", generator=g(13))
    out["necst_reconstruct_batched"] = necst.reconstruct(model, xb, 0.2, seed=14, batch=4)
    out["necst_distortion"] = torch.tensor(list(necst.distortion(model, xb, 0.2, seed=15).values()), dtype=torch.float64)
    out["necst_distortion_per_image"] = torch.from_numpy(necst.distortion_per_image(model, xb, 0.2, seed=16))
    out["necst_chain"] = necst.markov_chain(model, xb[:3], 3, 0.2, seed=2)
    torch.manual_seed(17)
    _, logs = model.loss(xb)
    out["necst_loss_logs"] = torch.tensor([logs["bound"], logs["l2_per_image"]], dtype=torch.float64)
    torch.manual_seed(18)
    bec = necst.build_model("mnist", eps=0.3, channel="bec", bits=20)
    xm = torch.rand(7, 1, 28, 28, generator=g(19))
    out["necst_bec_transmit"] = bec.transmit(xm, generator=g(20))
    torch.manual_seed(21)
    conv = necst.build_model("cifar10", eps=0.1, bits=24)
    xc = torch.rand(3, 3, 32, 32, generator=g(22))
    out["necst_conv_transmit"] = conv.transmit(xc, generator=g(23))
    torch.manual_seed(24)
    _, logs = conv.loss(xc)
    out["necst_conv_loss_logs"] = torch.tensor([logs["bound"], logs["l2_per_image"]], dtype=torch.float64)

    # ---- VAE + LDPC
    torch.manual_seed(25)
    vae = necst.build_model("binary_mnist", eps=0.0, bits=50, prior="uniform")
    baseline = necst.VAEWithLDPC(vae, code_seed=0, max_iter=20)
    res = baseline.transmit(xb, 0.08, seed=26)
    out["ldpc_x_hat"] = res["x_hat"]
    out["ldpc_converged"] = torch.from_numpy(res["converged"].astype(bool))
    out["ldpc_bit_errors"] = torch.tensor(res["bit_errors"], dtype=torch.float64)
    res = baseline.transmit(xb, 0.2, mode="threshold", seed=27)
    out["ldpc_threshold_x_hat"] = res["x_hat"]

    # ---- notebook 04's systems
    torch.manual_seed(28)
    x = torch.rand(4, 1, 32, 32, generator=g(29))
    plain = JointSystem(1, 10, 4, AWGNChannel(2.0), 1.0, 0.1)
    out["joint_awgn"] = plain.reconstruct(x, g(30))
    torch.manual_seed(31)
    gauss = JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1, StandardGaussianPrior(2, 5))
    out["joint_bl_b2"] = gauss.reconstruct(x, g(32), 2)
    out["joint_bl_bnone"] = gauss.reconstruct(x, g(33))
    torch.manual_seed(34)
    alv = JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1,
                      make_prior("learned", 2, 5, hidden=8, n_components=2), alv_dim=3, alv_skip=True,
                      alv_kl_weight=10.0)
    out["joint_alv_b3"] = alv.reconstruct(x, g(35), 3)
    out["joint_alv_b1_gaussfill"] = alv.reconstruct(x, g(36), 1, StandardGaussianPrior(2, 5))
    torch.manual_seed(37)
    terms = alv.terms(x)
    out["joint_alv_terms"] = torch.stack([terms[k] for k in sorted(terms)])
    torch.manual_seed(38)
    terms = gauss.terms(x, "all")
    out["joint_bl_terms_all"] = torch.stack([terms[k] for k in sorted(terms)])
    torch.manual_seed(39)
    vae_src = SourceVAE(1, 10, 4, beta=1.0, obs_std=0.1)
    cae = ChannelAutoencoder(10, snr=1.0, hidden=16)
    out["separate"] = bp.separate_reconstructor(vae_src, cae)(x, g(40))
    torch.manual_seed(41)
    terms = vae_src.terms(x)
    out["source_vae_terms"] = torch.stack([terms[k] for k in sorted(terms)])
    torch.manual_seed(42)
    out["cae_loss"] = cae.loss(torch.randn(5, 10, generator=g(43)))[0].detach()
    torch.manual_seed(44)
    binary = BinaryJointSystem(1, 16, 4, eps=0.1, temperature=0.5, beta=1.0, obs_std=0.1)
    out["binary_hard"] = binary.reconstruct_hard(x, g(45))
    torch.manual_seed(46)
    terms = binary.terms(x)
    out["binary_terms"] = torch.stack([terms[k] for k in sorted(terms)])
    cpu = torch.device("cpu")
    out["bp_reconstruct_all"] = bp.reconstruct_all(bp.joint_reconstructor(alv, 2), x, seed=47, device=cpu, batch=3)
    out["bp_distortions_separate"] = bp.distortions(bp.separate_reconstructor(vae_src, cae), x, seed=48, device=cpu,
                                                    batch=3)
    out["bp_mean_distortion_binary"] = torch.tensor(
        bp.mean_distortion(bp.hard_bsc_reconstructor(binary), x, seed=49, device=cpu, batch=3), dtype=torch.float64)
    out["bp_prior_fit"] = torch.tensor(list(bp.prior_fit(alv, x, seed=50, device=cpu, batch=3).values()),
                                       dtype=torch.float64)
    out["mean_image_l2"] = torch.tensor(bw.mean_image_l2(x[:2], x[2:]), dtype=torch.float64)
    return {k: v.detach().clone() for k, v in out.items()}


if __name__ == "__main__":
    path = Path(__file__).with_name("system_outputs.pt")
    torch.save(record(), path)
    print(f"wrote {path}")
