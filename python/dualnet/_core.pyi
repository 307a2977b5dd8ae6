# Typing stub of the compiled module dualnet._core (kept honest by tests/test_core_stub.py).
import numpy as np
import numpy.typing as npt

class PatternSet:
    @staticmethod
    def from_masks(masks: npt.NDArray[np.bool_], gates: npt.NDArray[np.float64]) -> PatternSet: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def gate_dim(self) -> int: ...
    @property
    def memory_bytes(self) -> int: ...
    def __len__(self) -> int: ...
    def masks(self) -> npt.NDArray[np.bool_]: ...
    def mask(self, index: int) -> npt.NDArray[np.bool_]: ...
    def gates(self) -> npt.NDArray[np.float64]: ...
    def counts(self) -> npt.NDArray[np.int64]: ...
    def mean_row_coverage(self) -> npt.NDArray[np.float64]: ...
    def subset(self, indices: npt.ArrayLike) -> PatternSet: ...
    def hashes(self) -> npt.NDArray[np.uint64]: ...
    def first_occurrences(self) -> npt.NDArray[np.int64]: ...
    def find(self, queries: PatternSet) -> npt.NDArray[np.int64]: ...
    @staticmethod
    def from_gates(X: npt.NDArray[np.float64], gates: npt.NDArray[np.float64]) -> PatternSet: ...
    def words(self) -> npt.NDArray[np.uint64]: ...

def arrangement_size(X: npt.NDArray[np.float64]) -> tuple[int, int]: ...
def enumerate_patterns(
    X: npt.NDArray[np.float64], max_patterns: int, use_chart: bool = True
) -> PatternSet | None: ...
def sample_patterns(
    X: npt.NDArray[np.float64], n_gates: int, seed: int
) -> tuple[PatternSet, int, int]: ...
def count_patterns(
    X: npt.NDArray[np.float64], max_subsets: float, max_cells: int
) -> tuple[int | None, int | None, bool, int | None]: ...
class ConvexSolution:
    @property
    def v(self) -> npt.NDArray[np.float64]: ...
    @property
    def w(self) -> npt.NDArray[np.float64]: ...
    @property
    def primal_objective(self) -> float: ...
    @property
    def dual_objective(self) -> float: ...
    @property
    def duality_gap(self) -> float: ...
    @property
    def relative_gap(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def n_iter(self) -> int: ...
    @property
    def dual(self) -> npt.NDArray[np.float64]: ...
    @property
    def status(self) -> str: ...
    @property
    def max_cone_violation(self) -> float: ...
    @property
    def n_active(self) -> int: ...
    @property
    def screened(self) -> npt.NDArray[np.bool_]: ...

def solve_convex(
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    patterns: PatternSet,
    beta: float,
    *,
    relu: bool,
    tol: float = 1e-6,
    max_iter: int = 10000,
    v0: npt.NDArray[np.float64] | None = None,
    w0: npt.NDArray[np.float64] | None = None,
    verbose: bool = False,
    n_threads: int = 0,
) -> ConvexSolution: ...
class LossSolution:
    @property
    def v(self) -> npt.NDArray[np.float64]: ...
    @property
    def w(self) -> npt.NDArray[np.float64]: ...
    @property
    def primal_objective(self) -> float: ...
    @property
    def dual_objective(self) -> float: ...
    @property
    def duality_gap(self) -> float: ...
    @property
    def relative_gap(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def n_iter(self) -> int: ...
    @property
    def n_inner_iter(self) -> int: ...
    @property
    def dual(self) -> npt.NDArray[np.float64]: ...
    @property
    def status(self) -> str:
        """One of "converged", "max_iter" (outer iterations exhausted) or "stalled" (binary
        losses: no step decreased the objective with the subproblems at their finest tolerance;
        the certificate is still above tol)."""
    @property
    def max_cone_violation(self) -> float: ...
    @property
    def n_active(self) -> int: ...

def solve_binary_loss(
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    patterns: PatternSet,
    beta: float,
    *,
    loss: str,
    relu: bool,
    tol: float = 1e-6,
    max_iter: int = 500,
    max_inner_iter: int = 10000,
    v0: npt.NDArray[np.float64] | None = None,
    w0: npt.NDArray[np.float64] | None = None,
    multipliers: npt.NDArray[np.float64] | None = None,
    verbose: bool = False,
) -> LossSolution: ...
def solve_cross_entropy_gated(
    X: npt.NDArray[np.float64],
    Y: npt.NDArray[np.float64],
    patterns: PatternSet,
    beta: float,
    *,
    tol: float = 1e-6,
    max_iter: int = 100000,
    v0: npt.NDArray[np.float64] | None = None,
    verbose: bool = False,
) -> LossSolution: ...
def beta_max(
    X: npt.NDArray[np.float64], y: npt.NDArray[np.float64], patterns: PatternSet, *, relu: bool
) -> float: ...
def project_onto_pattern_cone(
    X: npt.NDArray[np.float64], patterns: PatternSet, index: int, c: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], float]: ...
def cone_rows_least_squares(
    X: npt.NDArray[np.float64],
    patterns: PatternSet,
    index: int,
    rows: list[int],
    rhs: npt.NDArray[np.float64],
    *,
    minimum_norm: bool = False,
) -> npt.NDArray[np.float64]: ...
def cone_row_products(
    X: npt.NDArray[np.float64],
    patterns: PatternSet,
    index: int,
    u: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64] | None = None,
    *,
    block_rows: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64] | None]: ...
def cone_scan_tests(
    au: npt.NDArray[np.float64],
    ad: npt.NDArray[np.float64],
    inverse: npt.NDArray[np.float64],
    *,
    floor: float,
    moving: float,
    t: float,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], float]: ...
def deflated_preconditioner(
    block_inverse: npt.NDArray[np.float64],
    coarse: npt.NDArray[np.float64],
    hessian_coarse: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], bool]: ...
def default_memory_budget() -> int: ...
def default_thread_count() -> int: ...
def block_gradients(
    X: npt.NDArray[np.float64],
    patterns: PatternSet,
    r: npt.NDArray[np.float64],
    *,
    n_threads: int = 0,
) -> npt.NDArray[np.float64]: ...
def block_prediction_then_gradient(
    X: npt.NDArray[np.float64],
    patterns: PatternSet,
    i: int,
    u: npt.NDArray[np.float64],
    alpha: float,
    r: npt.NDArray[np.float64],
    next: int,
    *,
    word0: int = 0,
    word1: int = -1,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def support_gram(
    X: npt.NDArray[np.float64],
    patterns: PatternSet,
    signs: list[float],
    y: npt.NDArray[np.float64],
    *,
    method: str = "auto",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], bool]: ...
def check_memory_budget(required_bytes: int, what: str, budget_bytes: int | None = None) -> None: ...
def price_patterns(
    X: npt.NDArray[np.float64],
    dual: npt.NDArray[np.float64],
    beta: float,
    patterns: PatternSet,
    *,
    relu: bool,
    n_starts: int = -1,
    n_random: int = 64,
    max_steps: int = 32,
    tol: float = 1e-6,
    max_new: int = -1,
    seed: int = 0,
    method: str = "ascent",
    step: float = 0.5,
    min_distance: int = 0,
) -> tuple[PatternSet, npt.NDArray[np.float64], npt.NDArray[np.float64], float, int, int, int]: ...
def append_patterns(first: PatternSet, second: PatternSet) -> PatternSet: ...
def pattern_distances(first: PatternSet, second: PatternSet) -> npt.NDArray[np.int64]: ...
