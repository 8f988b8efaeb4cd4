"""Rate-1/2 LDPC channel code for the VAE+LDPC baseline of NECST's Figure 3 (notebook 02).

The baseline of Choi et al. (NECST) compresses an image into m/2 Bernoulli latent bits with a discrete VAE,
protects them with a rate-1/2 LDPC code of block length m, sends the m coded bits through a BSC(eps), decodes with
50 iterations of belief propagation and passes the decoded bits, valid codeword or not, to the VAE decoder. This
module is the channel-code half of that baseline:

- :class:`LDPCCode` builds the parity-check matrix ``H`` (progressive edge growth, column weight 3, row weight 6
  for rate 1/2, full rank), the systematic generator, :meth:`LDPCCode.encode` and :meth:`LDPCCode.decode`
  (belief propagation from the ``ldpc`` package, ``ldpc.BpDecoder``; no BP is written here). GF(2) elimination
  is ``ldpc.mod2``'s and the girth of the Tanner graph ``networkx``'s; the progressive edge growth is ours.
- :func:`time_ldpc` measures the decoding time per word, batched and one word at a time, for the decoding-time
  panel of Figure 3 (``benchmarks/decode_time.py`` prints its rows as JSON lines).

Conventions: bits are ``numpy.uint8`` arrays in {0, 1}; messages have shape ``(batch, k)``, codewords and
received words ``(batch, n)``. Codewords are systematic, ``c = [msg | parity]``: the message is carried verbatim in
the first ``k`` positions (the columns of ``H`` are ordered so that this holds), so the decoded message is the
first ``k`` bits of BP's codeword estimate, whether or not BP converged.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp

from repro.core.checks import ConfigError, check_choice, check_range
from repro.core.timing import median_seconds

#: Smallest flip probability given to BP: at eps = 0 the channel LLR log((1 - eps) / eps) would be infinite.
EPS_FLOOR = 1e-6
#: How many random draws :class:`LDPCCode` tries for a full-rank ``H`` before giving up.
MAX_CONSTRUCTION_ATTEMPTS = 200
#: How many draws :class:`LDPCCode` makes looking for an ``H`` without 4-cycles before keeping a full-rank one with.
GIRTH_ATTEMPTS = 20
BP_METHODS = ("product_sum", "minimum_sum")


@dataclass(frozen=True)
class BPResult:
    """Output of :meth:`LDPCCode.decode_with_info` for a batch of ``B`` received words.

    msg:        (B, k) uint8, the decoded message bits (first k bits of ``codeword``), valid codeword or not.
    codeword:   (B, n) uint8, BP's hard decision on the whole word after its last iteration.
    converged:  (B,) bool, True where BP stopped on a valid codeword (``H @ codeword = 0 mod 2``). A valid
                codeword can still be the wrong one when the channel flipped many bits.
    iterations: (B,) int, BP iterations run per word (at most ``max_iter``; 0 for an all-zero received word,
                which is a codeword already).
    """

    msg: np.ndarray
    codeword: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


class LDPCCode:
    """A binary LDPC code of block length ``n`` and ``k = n * rate`` message bits, with BP decoding for a BSC.

    Construction of the parity-check matrix ``H`` (``m = n - k`` rows, ``n`` columns):

    1. Progressive edge growth (Hu, Eleftheriou and Arnold, 2005): the ``column_weight`` edges of every bit node
       are placed one at a time, each on a check node as far as possible from the bit in the Tanner graph built so
       far (which maximizes the girth locally), ties broken by the lowest check degree and then at random from
       ``seed``. Check nodes are capped at ``ceil(column_weight * n / m)`` edges,
       so for rate 1/2 and column weight 3 the code is exactly (3, 6)-regular (every column has 3 ones, every
       row 6).
    2. ``H`` must have full rank ``m``, so that the code carries exactly ``k = n - m`` message bits (for rate 1/2
       exactly ``n / 2``). A rank-deficient draw is discarded and the construction is repeated with the next
       random draw of the same seeded generator; no padding or bit dropping is ever needed. The check-degree
       cap can force a 4-cycle late in a draw, so draws are also repeated until one is free of 4-cycles (girth
       at least 6); if none of the first ``GIRTH_ATTEMPTS`` (20) draws is (tiny or dense codes, e.g. n = 20), the
       first full-rank draw is kept. ``attempts`` records which draw was used; n = 50, 100, 200 with the default
       seed 0 and column weight 3 need 1, 7 and 1 draws and have girth 6.
    3. Gauss-Jordan elimination over GF(2) (``ldpc.mod2.row_echelon``) picks an information set of ``k``
       columns; the columns of ``H`` are then reordered (an equivalent code with the same Tanner graph) so that
       those are the first ``k`` columns. With ``H = [H_i | H_p]`` and ``H_p`` invertible,
       ``parity = msg @ (H_p^-1 H_i)^T mod 2`` and the generator is ``G = [I_k | (H_p^-1 H_i)^T]`` (``k x n``), so
       ``H @ G^T = 0 mod 2``.

    The same ``(n, rate, seed, column_weight)`` always gives the same code.

    Attributes:
        n, k, m: block length, message bits, parity checks (``m = n - k``).
        H: ``scipy.sparse.csr_matrix`` of uint8, shape (m, n); full rank m.
        G: ``numpy.ndarray`` of uint8, shape (k, n); systematic generator ``[I_k | P]``.
        parity_map: ``numpy.ndarray`` of uint8, shape (k, m); the ``P`` part of ``G``.
        attempts: which random draw of the seeded generator gave ``H`` (1 = the first).
        girth: length of the shortest cycle of the Tanner graph (``networkx.girth``; 0 if none).
    """

    def __init__(self, n: int, rate: float = 0.5, seed: int = 0, column_weight: int = 3):
        check_range("LDPC code rate", rate, 0.0, 1.0)
        if not 0.0 < rate < 1.0:
            raise ConfigError(f"LDPC code rate={rate!r} is outside its valid range (0, 1) (both ends excluded)")
        if isinstance(n, bool) or not isinstance(n, Integral) or n <= 0 or (rate == 0.5 and n % 2):
            kind = "a positive even integer for a rate-1/2 code (k = n/2 message bits)" if rate == 0.5 else \
                "a positive integer"
            raise ConfigError(f"LDPC block length n must be {kind}, got n={n!r}")
        k = round(n * rate)
        if abs(k - n * rate) > 1e-9:
            raise ConfigError(f"LDPC block length n={n!r} times rate={rate!r} must be a whole number of message "
                              f"bits, got {n * rate!r}")
        if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise ConfigError(f"LDPC construction seed must be a non-negative integer, got {seed!r}")
        m = n - k
        if k < 1 or m < 1:
            raise ConfigError(f"LDPC block length n={n!r} at rate={rate!r} leaves k={k} message bits and m={m} "
                              f"parity checks; both must be at least 1")
        check_range("LDPC column_weight", column_weight, 3, 63, integer=True)
        if column_weight % 2 == 0:
            # every column has column_weight ones, so the sum of all rows of H is 0 mod 2: H can never be full rank
            raise ConfigError(f"LDPC column_weight must be odd (3, 5, 7, ...) for a full-rank H, got "
                              f"{column_weight!r}: with an even weight in every column the rows of H sum to zero mod 2")
        if column_weight >= m:
            # with column_weight == m every column of H is all ones (rank 1), so H needs more rows than that
            min_n = int(np.ceil((column_weight + 1) / (1 - rate) - 1e-9))
            raise ConfigError(f"LDPC column_weight={column_weight!r} needs more than {column_weight} parity checks "
                              f"for a full-rank H, but n={n!r} at rate={rate!r} has only m={m}; use n >= {min_n}")
        self.n, self.k, self.m = int(n), int(k), int(m)
        self.rate = float(rate)
        self.seed = int(seed)
        self.column_weight = int(column_weight)

        rng = np.random.default_rng(self.seed)
        chosen = None  # (attempt, dense H, systematic form) of the first full-rank draw
        for attempt in range(1, MAX_CONSTRUCTION_ATTEMPTS + 1):
            edges = _progressive_edge_growth(self.n, self.m, self.column_weight, rng)
            if edges is None:
                continue
            rows, cols = edges
            dense = np.zeros((self.m, self.n), dtype=np.uint8)
            dense[rows, cols] = 1
            systematic = _systematic_form(dense)
            if systematic is None:
                continue
            if not _has_4_cycle(dense):
                chosen = (attempt, dense, systematic)
                break
            if chosen is None:
                chosen = (attempt, dense, systematic)
            if attempt >= GIRTH_ATTEMPTS:
                break
        if chosen is None:
            raise ConfigError(f"no full-rank parity-check matrix found for n={n}, rate={rate}, "
                              f"column_weight={column_weight} in {MAX_CONSTRUCTION_ATTEMPTS} draws; "
                              f"try a larger n or another column_weight")
        attempt, dense, (order, parity_map) = chosen
        self.attempts = attempt
        self.H = sp.csr_matrix(dense[:, order], dtype=np.uint8)
        self.parity_map = parity_map
        self.G = np.concatenate([np.eye(self.k, dtype=np.uint8), parity_map], axis=1)
        self.girth = _girth(self.H)
        self._decoders: dict = {}

    def __repr__(self) -> str:
        return (f"LDPCCode(n={self.n}, k={self.k}, rate={self.rate}, column_weight={self.column_weight}, "
                f"seed={self.seed}, girth={self.girth})")

    # -- encoding -------------------------------------------------------------------------------------------

    def encode(self, msg) -> np.ndarray:
        """Systematic encoding: (batch, k) message bits -> (batch, n) codewords ``[msg | parity]``, uint8.

        ``msg`` may be any array-like of 0/1 values (numpy array of any integer/bool/float dtype, CPU torch
        tensor, nested lists) of shape (batch, k).
        """
        bits = _as_bits("message", msg, self.k)
        parity = (bits.astype(np.int32) @ self.parity_map.astype(np.int32)) & 1
        return np.concatenate([bits, parity.astype(np.uint8)], axis=1)

    def syndrome(self, words) -> np.ndarray:
        """``H @ word mod 2`` for (batch, n) words -> (batch, m) uint8; all zero exactly for codewords."""
        bits = _as_bits("word", words, self.n)
        return ((self.H @ bits.T.astype(np.int32)).T & 1).astype(np.uint8)

    # -- decoding -------------------------------------------------------------------------------------------

    def decode(self, received, eps: float, max_iter: int = 50, bp_method: str = "product_sum") -> np.ndarray:
        """Belief-propagation decoding for a BSC(eps): (batch, n) received bits -> (batch, k) message bits, uint8.

        The decoded bits are returned whether or not BP converged to a valid codeword (as in NECST's baseline);
        use :meth:`decode_with_info` for the per-word ``converged`` flag and iteration count.

        Args:
            received: (batch, n) bits in {0, 1} as they came out of the channel.
            eps: flip probability of the BSC in [0, 0.5], used for the channel LLRs ``log((1 - eps) / eps)``;
                values below ``EPS_FLOOR`` (1e-6) are raised to it so the LLRs stay finite; at 0.5 every LLR is 0
                (the channel carries no information) and BP returns some word without failing.
            max_iter: maximum number of BP iterations (BP stops earlier once the syndrome is zero).
            bp_method: ``"product_sum"`` (sum-product BP, default) or ``"minimum_sum"``.
        """
        return self.decode_with_info(received, eps, max_iter, bp_method).msg

    def decode_with_info(self, received, eps: float, max_iter: int = 50,
                         bp_method: str = "product_sum") -> BPResult:
        """Like :meth:`decode`, returning a :class:`BPResult` (msg, codeword, converged, iterations)."""
        bits = _as_bits("received word", received, self.n)
        decoder = self._decoder(eps, max_iter, bp_method)
        batch = bits.shape[0]
        codewords = np.empty((batch, self.n), dtype=np.uint8)
        converged = np.empty(batch, dtype=bool)
        iterations = np.empty(batch, dtype=np.int64)
        for i in range(batch):
            codewords[i] = decoder.decode(bits[i])
            converged[i] = decoder.converge
            iterations[i] = decoder.iter if bits[i].any() else 0
        return BPResult(codewords[:, :self.k].copy(), codewords, converged, iterations)

    def _decoder(self, eps, max_iter, bp_method):
        """The cached ``ldpc.BpDecoder`` for (max_iter, bp_method), with its channel set to BSC(eps)."""
        check_range("BSC flip probability eps", eps, 0.0, 0.5)
        check_range("BP max_iter", max_iter, 1, 100_000, integer=True)
        check_choice("BP method", bp_method, BP_METHODS)
        key = (int(max_iter), bp_method)
        decoder = self._decoders.get(key)
        if decoder is None:
            from ldpc import BpDecoder

            decoder = BpDecoder(self.H, error_rate=0.1, max_iter=int(max_iter), bp_method=bp_method,
                                schedule="parallel", input_vector_type="received_vector")
            self._decoders[key] = decoder
        decoder.error_rate = float(max(eps, EPS_FLOOR))
        return decoder


# -- timing (Figure 3, right) -------------------------------------------------------------------------------

def time_ldpc(n: int, batch: int, repeats: int = 3, *, batched: bool = True, eps: float = 0.2,
              max_iter: int = 50, bp_method: str = "product_sum", seed: int = 0) -> dict:
    """Seconds per word of LDPC BP decoding (``max_iter`` iterations) for ``batch`` words of ``n`` bits.

    Random messages are encoded, sent through a BSC(eps) with a fixed seed and decoded ``repeats`` times after one
    warm-up pass; the row reports the median over repeats. ``batched=True`` decodes the whole (batch, n) array in
    one :meth:`LDPCCode.decode` call; ``batched=False`` calls it once per (1, n) word, which adds the per-call
    overhead a one-image-at-a-time receiver pays. The ``ldpc`` package decodes one word at a time in C++ either
    way (there is no vectorized BP across words), single-threaded.

    BP stops early on words whose syndrome becomes zero, so the time is that of *up to* ``max_iter`` iterations:
    the row carries ``mean_bp_iterations``. At the default eps = 0.2, far above the BP threshold of a (3, 6) code
    on the BSC (about 0.084), almost every word runs all ``max_iter`` iterations.

    Returns one dict (a JSON-ready row) with ``method`` = ``f"LDPC-BP{max_iter}"``.
    """
    check_range("timing batch", batch, 1, 10_000_000, integer=True)
    check_range("timing repeats", repeats, 1, 10_000, integer=True)
    check_range("BSC flip probability eps", eps, 0.0, 0.5)
    code = LDPCCode(n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    msg = rng.integers(0, 2, size=(batch, code.k), dtype=np.uint8)
    received = code.encode(msg) ^ (rng.random((batch, code.n)) < eps).astype(np.uint8)

    def run_once():
        if batched:
            return code.decode_with_info(received, eps, max_iter, bp_method)
        results = [code.decode_with_info(received[i:i + 1], eps, max_iter, bp_method) for i in range(batch)]
        return BPResult(*(np.concatenate([getattr(r, f) for r in results])
                          for f in ("msg", "codeword", "converged", "iterations")))

    seconds, times, info = median_seconds(run_once, repeats)  # the warm-up call builds the decoder
    import ldpc

    return {
        "benchmark": "decode_time", "method": f"LDPC-BP{int(max_iter)}", "bits": code.n, "message_bits": code.k,
        "mode": "batched" if batched else "unbatched", "batch": int(batch), "eps": float(eps),
        "max_iter": int(max_iter), "bp_method": bp_method, "repeats": int(repeats),
        "seconds_per_word": seconds / batch, "seconds_total": seconds,
        "seconds_min_total": float(min(times)), "seconds_per_word_each": [t / batch for t in times],
        "mean_bp_iterations": float(info.iterations.mean()),
        "converged_fraction": float(info.converged.mean()),
        "message_bit_error_rate": float((info.msg != msg).mean()),
        "device": "cpu", "threads": 1, "ldpc": ldpc.__version__, "cpu": platform.processor() or platform.machine(),
    }


# -- helpers ------------------------------------------------------------------------------------------------

def _as_bits(what: str, value, width: int) -> np.ndarray:
    """Validate a (batch, width) array of 0/1 values and return it as a C-contiguous uint8 array."""
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{what} bits must have shape (batch, {width}), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} bits must be numbers 0/1, got dtype {arr.dtype}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))].flat[0].item()
        raise ValueError(f"{what} bits must be 0 or 1, got the value {bad!r}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _progressive_edge_growth(n: int, m: int, column_weight: int, rng: np.random.Generator):
    """Edges (rows, cols) of an m x n Tanner graph: every bit node gets ``column_weight`` distinct checks.

    Each new edge of bit j goes to a check node not reached from j in the deepest breadth-first level that still
    leaves a non-full candidate (the farthest checks, so the new edge closes the longest possible cycle), then the
    lowest-degree candidates, then a random one. Check degrees are capped at ceil(column_weight * n / m). Returns
    None for a draw that cannot be completed under the cap (the caller draws again).
    """
    cap = int(np.ceil(column_weight * n / m))
    check_deg = np.zeros(m, dtype=np.int64)
    bit_checks: list[list[int]] = [[] for _ in range(n)]
    check_bits: list[list[int]] = [[] for _ in range(m)]
    for j in range(n):
        for e in range(column_weight):
            open_checks = check_deg < cap
            open_checks[bit_checks[j]] = False
            # nested sets of checks reached from bit j at increasing depth
            levels = [np.zeros(m, dtype=bool)]
            if e > 0:
                reached = np.zeros(m, dtype=bool)
                reached[bit_checks[j]] = True
                seen_bits = {j}
                frontier = list(bit_checks[j])
                levels.append(reached.copy())
                while True:
                    new_bits = {b for c in frontier for b in check_bits[c]} - seen_bits
                    seen_bits |= new_bits
                    new_checks = {c for b in new_bits for c in bit_checks[b]}
                    frontier = [c for c in new_checks if not reached[c]]
                    if not frontier:
                        break
                    reached[frontier] = True
                    levels.append(reached.copy())
                    if reached.all():
                        break
            for level in reversed(levels):
                candidates = np.flatnonzero(open_checks & ~level)
                if candidates.size:
                    break
            else:
                return None  # the free check slots left are all on checks bit j already uses: a failed draw
            lowest = candidates[check_deg[candidates] == check_deg[candidates].min()]
            c = int(rng.choice(lowest))
            bit_checks[j].append(c)
            check_bits[c].append(j)
            check_deg[c] += 1
    rows = np.array([c for j in range(n) for c in bit_checks[j]], dtype=np.int64)
    cols = np.repeat(np.arange(n), column_weight)
    return rows, cols


def _systematic_form(H: np.ndarray):
    """Information set and parity map of a full-rank (m, n) GF(2) matrix, or None if its rank is below m.

    Returns ``(order, parity_map)``: ``order`` lists the k information columns then the m pivot columns, so that
    ``H[:, order] = [H_i | H_p]`` with ``H_p`` invertible; ``parity_map`` (k, m) uint8 is ``(H_p^-1 H_i)^T``, the
    map from message bits to parity bits.

    The elimination is ``ldpc.mod2.row_echelon(H, full=True)``: Gauss-Jordan elimination over GF(2) with the
    columns scanned left to right, so the pivots are the first ``m`` linearly independent columns taken greedily
    from the left, and the result is the reduced row echelon form ``R = T H`` (``T`` invertible), unique for
    ``H``. Row ``r`` of ``R`` has its leading 1 in pivot column ``p_r`` and zeros in every other pivot column, so
    ``R[:, pivots] = I_m`` and ``R[:, info] = T H_i = H_p^-1 H_i`` (since ``T H_p = I_m``). The parity bits of a
    message ``u`` then follow from ``H c = 0``: ``parity = H_p^-1 H_i u``, i.e. ``parity^T = u^T (H_p^-1 H_i)^T``.
    (``ldpc.mod2.reduced_row_echelon`` is not used: it may permute columns to its own information set.)
    """
    import ldpc.mod2

    m, n = H.shape
    reduced, rank, _, pivots = ldpc.mod2.row_echelon(np.ascontiguousarray(H, dtype=np.uint8), full=True)
    if rank < m:
        return None
    reduced = np.asarray(reduced.toarray() if sp.issparse(reduced) else reduced, dtype=np.uint8)
    pivots = np.asarray(pivots[:rank], dtype=np.int64)
    info = np.setdiff1d(np.arange(n), pivots)
    parity_map = reduced[:rank][:, info].T.copy()
    return np.concatenate([info, pivots]), parity_map


def _has_4_cycle(H: np.ndarray) -> bool:
    """True if two rows of the 0/1 matrix H share two or more columns (a cycle of length 4 in the Tanner graph).

    This per-draw test stays a matrix product, ``(H H^T)_{ab}`` = bits shared by checks a and b off the diagonal:
    it is the definition of a 4-cycle itself and cheaper than building a graph for every draw; the girth of the
    chosen code comes from networkx (:func:`_girth`)."""
    overlap = H.astype(np.int32) @ H.T.astype(np.int32)
    np.fill_diagonal(overlap, 0)
    return bool((overlap > 1).any())


def _girth(H: sp.csr_matrix) -> int:
    """Length of the shortest cycle of the Tanner graph of ``H`` (``networkx.girth``; 0 if the graph has none).

    The Tanner graph has a node per bit (column) and per check (row) and an edge per 1 of ``H``; it is bipartite,
    so its cycles have even length >= 4. A 4-cycle is two checks sharing two bits.
    """
    import networkx as nx

    m, n = H.shape
    rows, cols = H.nonzero()
    graph = nx.Graph()
    graph.add_nodes_from(range(n + m))  # bits 0..n-1, checks n..n+m-1
    graph.add_edges_from(zip(cols.tolist(), (rows + n).tolist(), strict=True))
    girth = nx.girth(graph)
    return 0 if girth == float("inf") else int(girth)
