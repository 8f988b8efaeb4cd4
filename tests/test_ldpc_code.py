"""The rate-1/2 LDPC code of the VAE+LDPC baseline (notebook 02, NECST Figure 3): construction, encoding, BP."""

import json

import ldpc.mod2
import numpy as np
import pytest
import torch

from repro.coding.ldpc import BPResult, LDPCCode, time_ldpc
from repro.core.checks import ConfigError


@pytest.fixture(scope="module")
def codes():
    """The three codes of Figure 3: random bits 50, binary MNIST 100, Omniglot 200."""
    return {n: LDPCCode(n) for n in (50, 100, 200)}


def random_messages(code, batch, seed):
    return np.random.default_rng(seed).integers(0, 2, size=(batch, code.k), dtype=np.uint8)


@pytest.mark.parametrize("n", [50, 100, 200])
def test_parity_check_matrix_is_full_rank_3_6_regular_rate_half(codes, n):
    code = codes[n]
    H = code.H.toarray()
    assert (code.n, code.k, code.m) == (n, n // 2, n // 2)
    assert H.shape == (n // 2, n) and set(np.unique(H)) == {0, 1}
    assert (H.sum(axis=0) == 3).all() and (H.sum(axis=1) == 6).all()
    assert ldpc.mod2.rank(code.H) == code.m  # independent check with the package's own GF(2) rank
    assert code.girth == 6  # no 4-cycles
    assert code.G.shape == (code.k, n)
    assert (code.G[:, :code.k] == np.eye(code.k, dtype=np.uint8)).all()
    assert not ((H.astype(int) @ code.G.T.astype(int)) % 2).any()


def test_construction_is_deterministic_and_seed_dependent():
    a, b, c = LDPCCode(100, seed=3), LDPCCode(100, seed=3), LDPCCode(100, seed=4)
    assert (a.H != b.H).nnz == 0 and (a.G == b.G).all()
    assert (a.H != c.H).nnz > 0


@pytest.mark.parametrize("n", [50, 100, 200])
def test_encode_gives_systematic_codewords(codes, n):
    code = codes[n]
    msg = random_messages(code, 300, seed=n)
    cw = code.encode(msg)
    assert cw.shape == (300, n) and cw.dtype == np.uint8
    assert (cw[:, :code.k] == msg).all()
    assert not ((code.H @ cw.T.astype(int)) % 2).any()  # H c = 0 mod 2 for every codeword
    assert not code.syndrome(cw).any()
    assert code.syndrome(cw ^ np.eye(1, n, 7, dtype=np.uint8)).any()  # one flip breaks a parity check


def test_encode_accepts_bool_float_and_torch_input(codes):
    code = codes[50]
    msg = random_messages(code, 5, seed=1)
    expected = code.encode(msg)
    assert (code.encode(msg.astype(bool)) == expected).all()
    assert (code.encode(msg.astype(np.float32)) == expected).all()
    assert (code.encode(torch.from_numpy(msg).float()) == expected).all()


@pytest.mark.parametrize("n", [50, 100, 200])
def test_round_trip_without_noise_is_exact(codes, n):
    code = codes[n]
    msg = random_messages(code, 200, seed=10 + n)
    info = code.decode_with_info(code.encode(msg), eps=0.0)
    assert isinstance(info, BPResult)
    assert info.msg.shape == (200, code.k) and info.msg.dtype == np.uint8
    assert (info.msg == msg).all()
    assert info.converged.all()
    assert (code.decode(code.encode(msg), 0.0) == msg).all()


@pytest.mark.parametrize("flips", [1, 2, 3])
def test_a_few_flipped_bits_are_corrected(codes, flips):
    code = codes[200]
    rng = np.random.default_rng(flips)
    msg = random_messages(code, 200, seed=20 + flips)
    cw = code.encode(msg)
    received = cw.copy()
    for row in received:
        row[rng.choice(code.n, size=flips, replace=False)] ^= 1
    info = code.decode_with_info(received, eps=0.02)
    corrected = (info.codeword == cw).all(axis=1)
    assert corrected.mean() >= 0.98, f"{flips} flips: only {corrected.mean():.3f} of the words corrected"
    assert (info.msg[corrected] == msg[corrected]).all()
    assert info.converged[corrected].all()


def test_bit_error_rate_after_decoding_is_far_below_the_channel_rate(codes):
    code = codes[100]
    rng = np.random.default_rng(5)
    msg = random_messages(code, 500, seed=5)
    cw = code.encode(msg)
    received = cw ^ (rng.random(cw.shape) < 0.02).astype(np.uint8)
    raw_ber = (received != cw).mean()
    msg_hat = code.decode(received, eps=0.02)
    ber = (msg_hat != msg).mean()
    assert 0.01 < raw_ber < 0.03
    assert ber < raw_ber / 10, f"decoded BER {ber:.4f} vs raw {raw_ber:.4f}"


def test_useless_channel_eps_half_decodes_without_failing(codes):
    code = codes[100]
    rng = np.random.default_rng(6)
    received = rng.integers(0, 2, size=(50, code.n), dtype=np.uint8)
    info = code.decode_with_info(received, eps=0.5, max_iter=50)
    assert info.msg.shape == (50, code.k) and info.codeword.shape == (50, code.n)
    assert set(np.unique(info.msg)) <= {0, 1}
    assert info.converged.shape == (50,) and info.converged.dtype == bool
    assert (info.iterations <= 50).all()


def test_unconverged_words_are_still_returned_and_flagged(codes):
    code = codes[100]
    rng = np.random.default_rng(7)
    msg = random_messages(code, 100, seed=7)
    cw = code.encode(msg)
    received = cw ^ (rng.random(cw.shape) < 0.2).astype(np.uint8)  # far above the BP threshold
    info = code.decode_with_info(received, eps=0.2, max_iter=10)
    assert info.msg.shape == (100, code.k)
    assert (~info.converged).sum() > 50
    assert (info.iterations[~info.converged] == 10).all()
    # the flag says exactly whether the returned word satisfies every parity check
    assert (info.converged == ~code.syndrome(info.codeword).any(axis=1)).all()
    assert (info.msg == info.codeword[:, :code.k]).all()


def test_empty_batch(codes):
    code = codes[50]
    assert code.encode(np.zeros((0, code.k), np.uint8)).shape == (0, code.n)
    assert code.decode(np.zeros((0, code.n), np.uint8), 0.1).shape == (0, code.k)


@pytest.mark.parametrize("kwargs, words", [
    (dict(n=101), ["101", "even"]),
    (dict(n=0), ["n=0", "even"]),
    (dict(n=100.5), ["100.5", "even"]),
    (dict(n=6), ["n=6", "n >= 8"]),
    (dict(n=100, column_weight=4), ["4", "odd"]),
    (dict(n=100, column_weight=1), ["column_weight", "3..63"]),
    (dict(n=100, rate=1.0), ["rate=1.0", "(0, 1)"]),
    (dict(n=100, seed=-1), ["seed", "-1"]),
])
def test_bad_construction_arguments_are_named(kwargs, words):
    with pytest.raises(ConfigError) as err:
        LDPCCode(**kwargs)
    for word in words:
        assert word in str(err.value)


def test_bad_decode_and_encode_inputs_are_named(codes):
    code = codes[100]
    good = np.zeros((2, code.n), np.uint8)
    with pytest.raises(ConfigError, match=r"eps=0\.7 is outside its valid range \[0\.0, 0\.5\]"):
        code.decode(good, eps=0.7)
    with pytest.raises(ConfigError, match=r"eps=-0\.1 .*\[0\.0, 0\.5\]"):
        code.decode(good, eps=-0.1)
    with pytest.raises(ConfigError, match=r"max_iter=0 .*1\.\.100000"):
        code.decode(good, eps=0.1, max_iter=0)
    with pytest.raises(ConfigError, match="unknown BP method 'belief'"):
        code.decode(good, eps=0.1, bp_method="belief")
    with pytest.raises(ValueError, match=r"shape \(batch, 50\), got shape \(50,\)"):
        code.encode(np.zeros(code.k, np.uint8))
    with pytest.raises(ValueError, match=r"shape \(batch, 50\), got shape \(3, 49\)"):
        code.encode(np.zeros((3, code.k - 1), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(batch, 100\), got shape \(2, 50\)"):
        code.decode(np.zeros((2, code.k), np.uint8), eps=0.1)
    with pytest.raises(ValueError, match="must be 0 or 1, got the value 2"):
        code.encode(np.full((1, code.k), 2))


@pytest.mark.parametrize("batched", [True, False])
def test_time_ldpc_row(batched):
    row = time_ldpc(50, batch=20, repeats=1, batched=batched)
    json.dumps(row)
    assert row["method"] == "LDPC-BP50" and row["bits"] == 50 and row["message_bits"] == 25
    assert row["mode"] == ("batched" if batched else "unbatched") and row["batch"] == 20
    assert 0 < row["seconds_per_word"] < 0.1
    assert row["mean_bp_iterations"] > 40  # eps = 0.2 is beyond the BP threshold: nearly all 50 iterations run


# -- GF(2) elimination (ldpc.mod2) and girth (networkx): checks independent of both libraries ----------------------

def _gf2_solve_columns(Hp: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``Hp^-1 B`` over GF(2) by brute-force Gauss-Jordan on ``[Hp | B]`` (a reference for the tests only)."""
    m = Hp.shape[0]
    A = np.concatenate([Hp, B], axis=1).astype(np.uint8) % 2
    for col in range(m):
        pivot = col + np.flatnonzero(A[col:, col])[0]
        A[[col, pivot]] = A[[pivot, col]]
        for r in np.flatnonzero(A[:, col]):
            if r != col:
                A[r] ^= A[col]
    assert (A[:, :m] == np.eye(m, dtype=np.uint8)).all()
    return A[:, m:]


@pytest.mark.parametrize("seed", range(6))
def test_systematic_form_gives_an_invertible_parity_part_and_the_exact_parity_map(seed):
    from repro.coding.ldpc import _systematic_form

    rng = np.random.default_rng(seed)
    m, n = 12, 30
    H = (rng.random((m, n)) < 0.3).astype(np.uint8)
    H[:, n - m:] |= np.eye(m, dtype=np.uint8)  # full rank for sure, pivots not all on the left
    order, parity_map = _systematic_form(H)
    assert sorted(order.tolist()) == list(range(n))
    Hi, Hp = H[:, order[:n - m]], H[:, order[n - m:]]
    assert (parity_map == _gf2_solve_columns(Hp, Hi).T).all()
    # the pivots are the first m independent columns from the left: each is independent of the columns before it
    pivots = order[n - m:]
    assert (np.diff(pivots) > 0).all()
    for j in range(n):
        left = H[:, :j]
        before = ldpc.mod2.rank(left) if j else 0
        assert (ldpc.mod2.rank(H[:, :j + 1]) > before) == (j in pivots)


def test_systematic_form_of_a_rank_deficient_matrix_is_none():
    from repro.coding.ldpc import _systematic_form

    H = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [1, 0, 1, 1]], dtype=np.uint8)  # row 3 = row 1 + row 2
    assert _systematic_form(H) is None
    assert _systematic_form(H[:2]) is not None


@pytest.mark.parametrize("rows, girth", [
    ([[1, 1, 0], [1, 1, 0]], 4),                     # two checks share two bits
    ([[1, 1, 0], [0, 1, 1], [1, 0, 1]], 6),          # a triangle of checks through three bits
    ([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1]], 8),
    ([[1, 1, 1], [0, 0, 1]], 0),                     # a tree: no cycle
])
def test_girth_of_small_tanner_graphs(rows, girth):
    import scipy.sparse as sp

    from repro.coding.ldpc import _girth

    assert _girth(sp.csr_matrix(np.array(rows, dtype=np.uint8))) == girth


@pytest.mark.parametrize("n, rate, seed, weight", [(50, 0.5, 0, 3), (100, 0.5, 0, 3), (200, 0.5, 0, 3),
                                                   (500, 0.5, 0, 3), (90, 1 / 3, 1, 3), (100, 0.5, 2, 5),
                                                   (20, 0.5, 0, 3)])
def test_generator_is_orthogonal_to_h_and_noiseless_round_trips_are_exact(n, rate, seed, weight):
    from repro.coding.ldpc import _has_4_cycle

    code = LDPCCode(n, rate=rate, seed=seed, column_weight=weight)
    H = code.H.toarray().astype(int)
    assert not ((H @ code.G.T.astype(int)) % 2).any()
    assert ldpc.mod2.rank(code.H) == code.m
    assert (code.girth == 4) == _has_4_cycle(H)  # the per-draw matrix test and networkx agree
    msg = random_messages(code, 100, seed=n)
    assert (code.decode(code.encode(msg), eps=0.0) == msg).all()
