"""The numbers every layer must agree on: the random-number counter, the stream ids and the
kernel's output rows. The one home of each; numba-free, and importing nothing from simval.

Random-number counter
    Every draw of a path is a pure function of ``(seed, path, stream, step, slot)`` through the
    64-bit counter ::

        counter = path << 32 | stream << 20 | step << 6 | slot
                  (path < 2^31, stream < 4096, step < 16384, slot < 64; bit 63 = 0)

    The four fields occupy disjoint bit ranges, so distinct ``(path, stream, step, slot)`` give
    distinct counters, and the keyed mix of :mod:`simval.engine.kernels` is a bijection of the
    counter, so streams cannot overlap (``docs/model.md``, section 5). The field widths set the
    limits that validation enforces: :data:`MAX_PATHS`, :data:`MAX_STEPS` (the largest step
    index drawn is ``K - 1``), :data:`MAX_NAMED_CONTRACTS`, :data:`MAX_POOL` and, through the
    slots a chip shock uses, :data:`MAX_EVENTS_IN_STEP`.

Streams
    Each driver draws from its own stream (``STREAM_*``), so switching a driver on adds draws
    without moving any other. Named contract ``j`` draws from ``STREAM_CONTRACT0 + j`` and
    expansion-pool slot ``i`` from ``STREAM_POOL0 + i``, in separate ranges, so adding a named
    contract never moves a pool draw. Ids 10-15 are reserved. The slots of each stream are listed
    in ``docs/model.md`` (the stream table).

Output rows
    The kernel writes a chunk's per-path results into three arrays: ``series`` (``N_SERIES``
    rows, one value per time), ``scalars`` (``N_SCALARS`` rows) and ``counts`` (``N_COUNTS``
    rows of int64). ``SERIES_NAMES``, ``SCALAR_NAMES`` and ``COUNT_NAMES`` give each row its
    name in the Dataset (kept paths are ``path_<name>``; the series' quantiles are
    ``<name>_quantile``), and each row constant is the position of its name. The rows in
    :data:`COUNT_STEP_ROWS` hold the step of a first event (-1 for none) and are reported as a
    time in years. ``STATE_*`` are the states of a contract slot in the kernel's scratch.

Notes
-----
The kernels read these constants as compile-time constants, and numba's on-disk cache is keyed
on the kernel file alone: it does not see an edit to this file. So
:mod:`simval.engine.kernels` records a digest of the integer constants here
(``_LAYOUT_DIGEST``): after an edit, importing it fails with the new digest to write there,
and that edit of the kernel file is what makes numba recompile the kernels (deleting
``simval/engine/__pycache__/kernels.*.nb[ic]`` does too). The names (``*_NAMES``) are not
compiled into the kernels.
"""

from __future__ import annotations

__all__ = [
    "N_DESIGN",
    "DESIGN_ALIVE",
    "DESIGN_HOLDERS",
    "N_BASIS",
    "BASIS_NAMES",
    "COUNT_FUNDAMENTAL_COLLAPSE_STEP",
    "SERIES_PRICE_TO_VALUE",
    "SERIES_FUNDAMENTAL_VALUE",
    "DAYS_PER_YEAR",
    "COUNT_BANKRUPT_STEP",
    "COUNT_CHIP_SHOCKS",
    "COUNT_COLLAPSE_STEP",
    "COUNT_CONTRACTS_LOST",
    "COUNT_CONTRACTS_WON",
    "COUNT_NAMES",
    "COUNT_RENEWAL_DECISIONS",
    "COUNT_STEP_ROWS",
    "MAX_EVENTS_IN_STEP",
    "MAX_NAMED_CONTRACTS",
    "MAX_PATHS",
    "MAX_POOL",
    "MAX_STEPS",
    "N_COUNTS",
    "N_SCALARS",
    "N_SERIES",
    "PATH_SHIFT",
    "SCALAR_HOLDERS_FRACTION",
    "SCALAR_MAX_DRAWDOWN",
    "SCALAR_MIN_VALUE",
    "SCALAR_NAMES",
    "SCALAR_PV",
    "SCALAR_SLOWDOWN_SHARE",
    "SCALAR_TERMINAL_GROWTH",
    "SCALAR_TERMINAL_MARGIN",
    "SCALAR_TERMINAL_REVENUE",
    "SCALAR_TERMINAL_VALUE_PV",
    "SERIES_CAPACITY",
    "SERIES_CASH",
    "SERIES_COMMERCIAL_REVENUE",
    "SERIES_CONTRACT_REVENUE",
    "SERIES_MARKET_SHARE",
    "SERIES_MARKET_VALUE",
    "SERIES_NAMES",
    "SERIES_TOTAL_REVENUE",
    "SLOT_SHIFT",
    "STATE_ACTIVE",
    "STATE_AWAITING",
    "STATE_DORMANT",
    "STATE_LOST",
    "STEP_SHIFT",
    "STREAM_CHIPS",
    "STREAM_BUDGET",
    "STREAM_CONTRACT0",
    "STREAM_COPULA",
    "STREAM_EXPANSION",
    "STREAM_FINANCING",
    "STREAM_GROWTH",
    "STREAM_MARKET",
    "STREAM_PATH",
    "STREAM_POOL0",
    "STREAM_REGIME",
    "STREAM_REVENUE",
    "STREAM_SHIFT",
]

# ------------------------------------------------------------------------------------------
# The random-number counter: bit widths and positions of its four fields

PATH_BITS, PATH_SHIFT = 31, 32
STREAM_BITS, STREAM_SHIFT = 12, 20
STEP_BITS, STEP_SHIFT = 14, 6
SLOT_BITS, SLOT_SHIFT = 6, 0

MAX_PATHS = 2**PATH_BITS - 1
"""Most paths per scenario (global path indices ``0 .. MAX_PATHS - 1``)."""
MAX_STEPS = 2**STEP_BITS - 1
"""Most time steps K (the step field holds ``0 .. K - 1``)."""
MAX_EVENTS_IN_STEP = 16
"""The kernel caps a step's Poisson count (chip shocks, wins) at this many events; chip shock
``i`` of a step draws slots ``1 + 2i`` and ``2 + 2i``."""

# ------------------------------------------------------------------------------------------
# Stream ids

STREAM_REGIME = 0
STREAM_REVENUE = 1
STREAM_GROWTH = 2
STREAM_CHIPS = 3
STREAM_MARKET = 4
STREAM_COPULA = 5
STREAM_EXPANSION = 6
STREAM_FINANCING = 7
STREAM_PATH = 8
STREAM_BUDGET = 9
"""The renewals' budget factor: b_0 at step 0 slot 1, the innovation of step k at slot 0."""
STREAM_CONTRACT0 = 16
"""Named contract ``j`` draws from stream ``STREAM_CONTRACT0 + j``."""
MAX_NAMED_CONTRACTS = 2048
STREAM_POOL0 = STREAM_CONTRACT0 + MAX_NAMED_CONTRACTS
"""Expansion-pool slot ``i`` draws from stream ``STREAM_POOL0 + i`` (2064)."""
MAX_POOL = 2000
"""Most contracts the expansion programme can win (stream ids up to 4063)."""

# ------------------------------------------------------------------------------------------
# Output rows of the kernel and their Dataset names

SERIES_NAMES = ("total_revenue", "commercial_revenue", "contract_revenue", "market_share",
                "capacity", "cash", "market_value", "fundamental_value", "price_to_value")
SERIES_TOTAL_REVENUE = SERIES_NAMES.index("total_revenue")
SERIES_COMMERCIAL_REVENUE = SERIES_NAMES.index("commercial_revenue")
SERIES_CONTRACT_REVENUE = SERIES_NAMES.index("contract_revenue")
SERIES_MARKET_SHARE = SERIES_NAMES.index("market_share")
SERIES_CAPACITY = SERIES_NAMES.index("capacity")
SERIES_CASH = SERIES_NAMES.index("cash")
SERIES_MARKET_VALUE = SERIES_NAMES.index("market_value")
SERIES_FUNDAMENTAL_VALUE = SERIES_NAMES.index("fundamental_value")
SERIES_PRICE_TO_VALUE = SERIES_NAMES.index("price_to_value")
N_SERIES = len(SERIES_NAMES)

SCALAR_NAMES = ("pv", "terminal_revenue", "min_value", "max_drawdown", "slowdown_share",
                "holders_fraction", "terminal_value_pv", "terminal_margin", "terminal_growth")
SCALAR_PV = SCALAR_NAMES.index("pv")
SCALAR_TERMINAL_REVENUE = SCALAR_NAMES.index("terminal_revenue")
SCALAR_MIN_VALUE = SCALAR_NAMES.index("min_value")
SCALAR_MAX_DRAWDOWN = SCALAR_NAMES.index("max_drawdown")
SCALAR_SLOWDOWN_SHARE = SCALAR_NAMES.index("slowdown_share")
SCALAR_HOLDERS_FRACTION = SCALAR_NAMES.index("holders_fraction")
SCALAR_TERMINAL_VALUE_PV = SCALAR_NAMES.index("terminal_value_pv")
SCALAR_TERMINAL_MARGIN = SCALAR_NAMES.index("terminal_margin")
SCALAR_TERMINAL_GROWTH = SCALAR_NAMES.index("terminal_growth")
N_SCALARS = len(SCALAR_NAMES)

COUNT_NAMES = ("collapse_time", "bankruptcy_time", "chip_shocks", "contracts_lost",
               "contracts_won", "renewal_decisions", "fundamental_collapse_time")
COUNT_COLLAPSE_STEP = COUNT_NAMES.index("collapse_time")
COUNT_BANKRUPT_STEP = COUNT_NAMES.index("bankruptcy_time")
COUNT_CHIP_SHOCKS = COUNT_NAMES.index("chip_shocks")
COUNT_CONTRACTS_LOST = COUNT_NAMES.index("contracts_lost")
COUNT_CONTRACTS_WON = COUNT_NAMES.index("contracts_won")
COUNT_RENEWAL_DECISIONS = COUNT_NAMES.index("renewal_decisions")
COUNT_FUNDAMENTAL_COLLAPSE_STEP = COUNT_NAMES.index("fundamental_collapse_time")
N_COUNTS = len(COUNT_NAMES)
COUNT_STEP_ROWS = (COUNT_COLLAPSE_STEP, COUNT_BANKRUPT_STEP, COUNT_FUNDAMENTAL_COLLAPSE_STEP)
"""Count rows holding the step of a first event (-1: none), reported as a time in years."""

# Basis functions of the state at t_k for the least-squares value W_k (the value model,
# docs/model.md): with s = S_k / S_ref (total revenue over the scenario's revenue at t_0),
# mu the expected commercial growth, c = cash_k / S_ref, x = contract revenue / S_ref,
# m the step's operating margin (EBIT / revenue, clipped to [-5, 1]), g the regime (0, 1)
# and h the capacity.
BASIS_NAMES = ("1", "s", "s^2", "sqrt(s)", "s mu", "s mu^2", "mu", "c", "x", "s m", "g",
               "s g", "h", "s h")
N_BASIS = len(BASIS_NAMES)
DESIGN_HOLDERS = N_BASIS
"""Row of the pilot's design array holding the holders' fraction at t_k."""
DESIGN_ALIVE = N_BASIS + 1
"""Row of the pilot's design array: 1 where the path is solvent at t_k."""
N_DESIGN = N_BASIS + 2

# states of a contract slot
STATE_DORMANT = 0
STATE_ACTIVE = 1
STATE_AWAITING = 2
STATE_LOST = 3

# ------------------------------------------------------------------------------------------
# The fields must not overlap, and every id and slot drawn must fit in its field.
assert PATH_SHIFT == STREAM_SHIFT + STREAM_BITS and PATH_SHIFT + PATH_BITS == 63
assert STREAM_SHIFT == STEP_SHIFT + STEP_BITS and STEP_SHIFT == SLOT_SHIFT + SLOT_BITS
assert STREAM_BUDGET < STREAM_CONTRACT0 and STREAM_POOL0 + MAX_POOL <= 2**STREAM_BITS
assert 2 + 2 * (MAX_EVENTS_IN_STEP - 1) < 2**SLOT_BITS

DAYS_PER_YEAR = 365.25
"""Calendar convention: a year of calendar time is 365.25 days (the time grid's day-based dates,
TAM interpolation, signal and renewal dates in years from as_of)."""
