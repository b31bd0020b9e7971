"""Bias-reduced cluster-robust covariance (CR2) with Satterthwaite degrees of freedom for
a binomial GLM fitted on covariate patterns.

The estimator is Bell and McCaffrey's (2002) CR2 as generalised by Pustejovsky and
Tipton (2018; R package clubSandwich) to weighted models, applied to the GLM's final
IRLS step: with working weights ``w_i = n_i mu_i (1 - mu_i)``, transformed design
``X~ = W^(1/2) X``, transformed residuals ``e~_i = (y_i - n_i mu_i) / sqrt(w_i)`` and
bread ``B = (X' W X)^-1`` (the inverse Fisher information),

    V_CR2 = B [sum_g X~_g' A_g e~_g e~_g' A_g X~_g] B,   A_g = (I - H_gg)^(-1/2),

where ``H_gg = X~_g B X~_g'`` is cluster g's block of the hat matrix (a symmetric
inverse square root; directions with leverage 1 get 0, a pseudo-inverse, as
clubSandwich does). The working model for the adjustment and the degrees of freedom is
the GLM's own (independent binomial rows, ``Phi = I`` on the transformed scale).

Everything reduces to K x K matrices per cluster (K coefficients), so a creator with
thousands of videos costs no more than one with a single video. With
``B^(1/2)`` the symmetric square root, ``J_g = X~_g' X~_g`` (the cluster's share of
the information, a sum over its (cluster x pattern) cells of ``N_gp mu_p (1 - mu_p)
x_p x_p'``), ``C_g = B^(1/2) J_g B^(1/2) = R_g diag(lambda_g) R_g'`` and the cluster
score ``S_g = X~_g' e~_g = sum_p x_p (Y_gp - N_gp mu_p)``, the identities
``U' f(U U') U = f(U' U) U' U`` (``U = X~_g B^(1/2)``) give

    B X~_g' A_g e~_g = B^(1/2) (I - C_g)^(-1/2) B^(1/2) S_g.

Satterthwaite degrees of freedom of a contrast ``c' beta`` (Bell-McCaffrey; eq. 11 of
Pustejovsky and Tipton): ``V_c = sum_g (q_g' e)^2`` with
``q_g = (I - H)_g' A_g X~_g B c``. Under the working model ``E V_c = sum_g q_g' q_g``
and ``Var V_c = 2 sum_{g,h} (q_g' q_h)^2``, so ``df = (sum_g q_g'q_g)^2 /
sum_{g,h} (q_g'q_h)^2``. With ``d = B^(1/2) c``, ``alpha_g = d' (I - C_g)^-1 C_g d`` and
``s_g = (I - C_g)^(-1/2) C_g d``, ``q_g'q_h = [g = h] alpha_g - s_g' s_h``, hence

    E = sum_g (alpha_g - |s_g|^2) = c' B c,
    sum_{g,h} (q_g'q_h)^2 = sum_g alpha_g^2 - 2 sum_g alpha_g |s_g|^2 + ||sum_g s_g s_g'||_F^2,

all K x K per cluster. The tests check both formulas against a direct row-level
computation with the n x n hat matrix.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

__all__ = ["CR2"]

# Eigenvalues of C_g this close to 1 are leverage-1 directions (a level resting on one
# cluster): pseudo-inverse, as clubSandwich.
_LEVERAGE_ONE = 1e-10
# Cells x K x K floats held at once while summing cluster information matrices.
_CHUNK_FLOATS = 4_000_000
# Cache the per-cluster eigen-decompositions when they take at most this many floats.
_CACHE_FLOATS = 8_000_000


def _sym_sqrt(B: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive definite matrix."""
    lam, R = np.linalg.eigh(B)
    return (R * np.sqrt(np.clip(lam, 0.0, None))) @ R.T


class CR2:
    """CR2 covariance and Satterthwaite degrees of freedom on pattern sufficient statistics.

    Parameters
    ----------
    X : numpy.ndarray
        Pattern design, P x K.
    mu : numpy.ndarray
        Fitted probability of each pattern.
    bread : numpy.ndarray
        ``(X' W X)^-1``, K x K (the inverse Fisher information at the estimate).
    trials : scipy.sparse.csr_array
        Trials per (cluster x pattern) cell; rows are cluster codes (rows without
        trials are ignored).
    scores : numpy.ndarray
        Cluster scores ``S_g = sum_p x_p (Y_gp - N_gp mu_p)``, one row per cluster code.
    resid_totals : numpy.ndarray, optional
        Each cluster code's residual total ``sum_i (y_i - n_i mu_i)``: with it the
        degrees of freedom use a working model with a cluster effect (see :meth:`df`),
        whose variance ``tau2`` is estimated by moments; without it ``tau2 = 0``.
    """

    def __init__(
        self,
        X: np.ndarray,
        mu: np.ndarray,
        bread: np.ndarray,
        trials: sp.csr_array,
        scores: np.ndarray,
        resid_totals: np.ndarray | None = None,
    ) -> None:
        trials = sp.csr_array(trials)
        trials.eliminate_zeros()
        counts = np.diff(trials.indptr)
        self._clusters = np.flatnonzero(counts > 0)
        self.n_clusters = int(self._clusters.size)
        self._X = np.asarray(X, dtype=np.float64)
        self._v = mu * (1.0 - mu)
        self._trials = trials
        self._scores = np.asarray(scores, dtype=np.float64)[self._clusters]
        self.bread = np.asarray(bread, dtype=np.float64)
        self._bh = _sym_sqrt(self.bread)
        K = self._X.shape[1]
        self._cache: list[tuple[slice, np.ndarray, np.ndarray, np.ndarray]] | None = None
        if self.n_clusters * K * (K + 2) <= _CACHE_FLOATS:
            self._cache = list(self._eigen_chunks())
        self.cov = self._covariance()
        self._P, weight_totals = self._effect_directions()
        self.tau2 = 0.0
        if resid_totals is not None:
            r = np.asarray(resid_totals, dtype=np.float64)[self._clusters]
            self.tau2 = max(0.0, float(np.sum(r * r - weight_totals) / np.sum(weight_totals**2)))

    # ------------------------------------------------------------------ per cluster
    def _chunk_bounds(self) -> Iterator[slice]:
        """Consecutive slices of the clusters with about _CHUNK_FLOATS cell floats each."""
        K = self._X.shape[1]
        cells = np.diff(self._trials.indptr)[self._clusters]
        limit = max(_CHUNK_FLOATS // (K * K), 1)
        start, total = 0, 0
        for i, c in enumerate(cells):
            if total + c > limit and i > start:
                yield slice(start, i)
                start, total = i, 0
            total += c
        if start < len(cells):
            yield slice(start, len(cells))

    def _eigen_chunks(self) -> Iterator[tuple[slice, np.ndarray, np.ndarray, np.ndarray]]:
        """Eigen-decompositions ``C_g = R_g diag(lambda_g) R_g'`` of a chunk of clusters,
        and ``mu_g = B^(1/2) X~_g' omega_g`` (``omega_g = sqrt(w)``: the direction of a
        cluster effect on the transformed scale)."""
        if self._cache is not None:
            yield from self._cache
            return
        indptr, indices, data = self._trials.indptr, self._trials.indices, self._trials.data
        for chunk in self._chunk_bounds():
            rows = self._clusters[chunk]
            lo, hi = indptr[rows[0]], indptr[rows[-1] + 1]
            p = indices[lo:hi]
            # rows are consecutive cluster codes with cells; empty codes between them
            # have no cells, so the starts of the clusters in the chunk are these
            starts = indptr[rows] - lo
            sw = np.sqrt(data[lo:hi] * self._v[p])
            xw = self._X[p] * sw[:, None]
            J = np.add.reduceat(xw[:, :, None] * xw[:, None, :], starts, axis=0)
            m = np.add.reduceat(xw * sw[:, None], starts, axis=0)
            C = self._bh @ J @ self._bh
            lam, R = np.linalg.eigh((C + np.swapaxes(C, 1, 2)) / 2)
            yield chunk, np.clip(lam, 0.0, 1.0), R, m @ self._bh

    @staticmethod
    def _inv_sqrt_one_minus(lam: np.ndarray) -> np.ndarray:
        """``(1 - lambda)^(-1/2)``, 0 for leverage-1 directions (pseudo-inverse)."""
        gap = 1.0 - lam
        out = np.zeros_like(lam)
        ok = gap > _LEVERAGE_ONE
        out[ok] = 1.0 / np.sqrt(gap[ok])
        return out

    def _covariance(self) -> np.ndarray:
        K = self._X.shape[1]
        meat = np.zeros((K, K))
        for chunk, lam, R, _mu in self._eigen_chunks():
            u = self._scores[chunk] @ self._bh  # rows: (B^1/2 S_g)'
            coef = np.einsum("gkj,gk->gj", R, u) * self._inv_sqrt_one_minus(lam)
            r = np.einsum("gkj,gj->gk", R, coef)  # (I - C_g)^(-1/2) B^(1/2) S_g
            meat += r.T @ r
        cov = self._bh @ meat @ self._bh
        return (cov + cov.T) / 2

    # ------------------------------------------------------------------ inference
    def df(self, contrasts: np.ndarray, tau2: float | None = None) -> np.ndarray:
        """Satterthwaite (Bell-McCaffrey) degrees of freedom of contrasts ``c' beta``.

        The working model for the first two moments of the CR2 variance is independent
        binomial rows plus a cluster effect on the logit scale, ``Phi_g = I + tau2
        omega_g omega_g'`` on the transformed scale (``omega_g = sqrt(w_g)``); ``tau2 =
        0`` is Pustejovsky and Tipton's default (the GLM's own model). With a cluster
        effect, ``q_g' Phi q_h = [g = h] delta_g + v_g' Gamma v_h`` where
        ``delta_g = alpha_g + tau2 phi_g^2``, ``phi_g = mu_g' (I - C_g)^(-1/2) d``,
        ``v_g = (s_g, phi_g mu_g)`` and ``Gamma = [[tau2 P - I, -tau2 I], [-tau2 I, 0]]``
        (``P = sum_g mu_g mu_g'``), so ``E = sum delta_g + tr(Gamma V)`` and
        ``sum (q_g' Phi q_h)^2 = sum delta_g^2 + 2 tr(Gamma W) + tr(Gamma V Gamma V)``
        with ``V = sum v_g v_g'`` and ``W = sum delta_g v_g v_g'``.

        Parameters
        ----------
        contrasts : numpy.ndarray
            L x K (one contrast per row) or a K-vector.
        tau2 : float, optional
            Cluster-effect variance of the working model; default the moment estimate
            (0 without residual totals).

        Returns
        -------
        numpy.ndarray
            L degrees of freedom (NaN for an all-zero contrast).
        """
        t2 = self.tau2 if tau2 is None else float(tau2)
        Cm = np.atleast_2d(np.asarray(contrasts, dtype=np.float64))
        D = self._bh @ Cm.T  # K x L, d = B^(1/2) c
        K, L = D.shape
        sum_d, sum_d2 = np.zeros(L), np.zeros(L)
        V = np.zeros((L, 2 * K, 2 * K))
        W = np.zeros((L, 2 * K, 2 * K))
        for _chunk, lam, R, mu in self._eigen_chunks():
            isq = self._inv_sqrt_one_minus(lam)
            RtD = np.einsum("gkj,kl->gjl", R, D)  # R_g' d
            alpha = np.einsum("gj,gjl->gl", lam * isq * isq, RtD * RtD)
            s = np.einsum("gkj,gjl->gkl", R, (lam * isq)[:, :, None] * RtD)
            Rtmu = np.einsum("gkj,gk->gj", R, mu)
            phi = np.einsum("gj,gjl->gl", Rtmu * isq, RtD)
            delta = alpha + t2 * phi * phi
            v = np.concatenate([s, phi[:, None, :] * mu[:, :, None]], axis=1)  # g x 2K x L
            sum_d += delta.sum(axis=0)
            sum_d2 += np.sum(delta * delta, axis=0)
            V += np.einsum("gkl,gml->lkm", v, v)
            W += np.einsum("gl,gkl,gml->lkm", delta, v, v)
        eye = np.eye(K)
        gamma = np.block([[t2 * self._P - eye, -t2 * eye], [-t2 * eye, np.zeros((K, K))]])
        GV = gamma @ V  # L x 2K x 2K
        expect = sum_d + np.einsum("lkk->l", GV)
        var = sum_d2 + 2 * np.einsum("km,lmk->l", gamma, W) + np.einsum("lkm,lmk->l", GV, GV)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(expect) > 0, expect**2 / var, np.nan)

    def max_leverage(self) -> float:
        """Largest eigenvalue of any cluster's ``H_gg`` (1: a cluster fits a direction
        exactly, e.g. a level resting on that one cluster)."""
        return max((float(lam.max()) for _c, lam, _R, _m in self._eigen_chunks()), default=0.0)

    def _effect_directions(self) -> tuple[np.ndarray, np.ndarray]:
        """``P = sum_g mu_g mu_g'`` and each cluster's working-weight total
        ``W_g = sum_p N_gp mu_p (1 - mu_p)``.

        ``tau2`` (set in ``__init__`` from residual totals ``R_g``) is the moment
        estimate ``max(0, sum_g (R_g^2 - W_g) / sum_g W_g^2)`` of a random intercept's
        variance on the logit scale: ``Var R_g = W_g + tau2 W_g^2`` to first order."""
        K = self._X.shape[1]
        P = np.zeros((K, K))
        for _chunk, _lam, _R, mu in self._eigen_chunks():
            P += mu.T @ mu
        W = np.asarray(self._trials[self._clusters] @ self._v, dtype=np.float64).reshape(-1)
        return P, W
