"""Worked solutions of the exercises, shown only on request.

The notebooks ship a working answer in each exercise cell (so they run end to end) and keep
it collapsed; this module explains it. In a notebook::

    from helpers.solutions import show_solution, list_solutions
    list_solutions()                      # what there is
    show_solution("02_closed_form")       # the worked solution of that exercise

Each solution is keyed by the name of the check it satisfies, without ``check_``:
``check_02_closed_form`` ↔ ``"02_closed_form"``. ``tests/test_solutions.py`` runs every
answer below through its check, and fails if a notebook has a check with no solution here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Solution:
    """One exercise: what it asks, the answer code, the check that accepts it, and why."""

    notebook: str
    title: str
    answer: str          # code that defines the student's answer
    call: str            # the check, as the notebook calls it
    explanation: str     # Markdown: the reasoning and the usual mistakes
    setup: str = ""      # what the notebook has defined before (used by the tests only)

    def markdown(self) -> str:
        return (f"### Solution {self.notebook} · {self.title}\n\n{self.explanation.strip()}\n\n"
                f"```python\n{self.answer.strip()}\n\n{self.call.strip()}\n```\n")


SOLUTIONS: dict[str, Solution] = {}


def _add(key: str, **fields) -> None:
    if key in SOLUTIONS:
        raise ValueError(f"solution {key!r} is registered twice")
    SOLUTIONS[key] = Solution(**fields)


# ----------------------------------------------------------------------------- 01
_add("01_cartesian", notebook="01", title="the Cartesian form",
     answer='''
def my_butterfly(theta):
    r = butterfly_radius(theta)                      # e^cos θ − 2 cos 4θ + sin⁵(θ/12)
    return torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=-1)
''',
     call="passed = check_01_cartesian(my_butterfly)",
     setup="import torch\nfrom helpers.data import butterfly_radius\n"
           "from helpers.exercises import check_01_cartesian",
     explanation='''
A polar curve $r(\\theta)$ becomes Cartesian with $x = r\\cos\\theta$, $y = r\\sin\\theta$ — but the
article swaps them, $x = r\\sin\\theta$, $y = r\\cos\\theta$, so the butterfly stands upright
instead of lying on its side. `torch.stack(..., dim=-1)` puts the two coordinates side by side,
giving shape `(n, 2)`. The usual mistake is the textbook order (the check says "x and y are
swapped").
''')

# ----------------------------------------------------------------------------- 02
_add("02_closed_form", notebook="02", title="the closed form q(x_t | x_0)",
     answer='''
def my_q_sample(schedule, x0, t, eps):
    alpha_bar = schedule.alpha_bar[t].to(x0.dtype)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
''',
     call="passed = check_02_closed_form(my_q_sample)",
     setup="import torch\nfrom helpers.exercises import check_02_closed_form",
     explanation='''
Eq. 4: $x_t = \\sqrt{\\bar\\alpha_t}\\,x_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\varepsilon$. It needs the
*cumulative* product $\\bar\\alpha_t = \\prod_{s\\le t}\\alpha_s$, not $\\alpha_t$: with `alpha[t]`
you get one step of noise instead of $t$ steps, and the check fails at every $t > 1$. The schedule
is stored in float64; `.to(x0.dtype)` keeps the result in the data's precision.
''')

_add("02_half_signal_t", notebook="02", title="where noise overtakes signal",
     answer='''
my_t_half = int(torch.nonzero(schedule.alpha_bar < 0.5)[0])
''',
     call="passed = check_02_half_signal_t(my_t_half, schedule)",
     setup="import torch\nfrom helpers.schedule import linear_schedule\n"
           "from helpers.exercises import check_02_half_signal_t\nschedule = linear_schedule()",
     explanation='''
The signal's variance in $x_t$ is $\\bar\\alpha_t$, the noise's $1-\\bar\\alpha_t$; they are equal
when $\\bar\\alpha_t = \\tfrac12$, i.e. $\\mathrm{SNR}(t) = 1$. `alpha_bar < 0.5` is a boolean
tensor over $t = 0..T$; `nonzero()[0]` is the first index where it holds — and because the array is
indexed by the paper's $t$, that index *is* $t$. For the default linear schedule ($T = 180$) it is
$t = 47$, about a quarter of the way; the cosine schedule crosses later (it keeps more signal mid-chain).
''')

# ----------------------------------------------------------------------------- 03
_add("03_posterior_mean", notebook="03", title="the posterior mean μ̃_t",
     answer='''
def my_posterior_mean(schedule, x0, x_t, t):
    ab, ab_prev = schedule.alpha_bar[t], schedule.alpha_bar[t - 1]
    w_x0 = ab_prev.sqrt() * schedule.beta[t] / (1 - ab)
    w_xt = schedule.alpha[t].sqrt() * (1 - ab_prev) / (1 - ab)
    return w_x0 * x0 + w_xt * x_t
''',
     call="ok_a = check_03_posterior_mean(my_posterior_mean)",
     setup="import torch\nfrom helpers.exercises_03_04 import check_03_posterior_mean",
     explanation='''
Eq. 7: $\\tilde\\mu_t = \\frac{\\sqrt{\\bar\\alpha_{t-1}}\\,\\beta_t}{1-\\bar\\alpha_t}\\,x_0 +
\\frac{\\sqrt{\\alpha_t}\\,(1-\\bar\\alpha_{t-1})}{1-\\bar\\alpha_t}\\,x_t$. Completing the square in
the product $q(x_t\\mid x_{t-1})\\,q(x_{t-1}\\mid x_0)$ gives precision
$\\alpha_t/\\beta_t + 1/(1-\\bar\\alpha_{t-1})$ and these two weights. At $t = 1$,
$\\bar\\alpha_0 = 1$ makes the $x_t$ weight 0 and the $x_0$ weight 1: the last step returns $x_0$.
Mixing up $\\bar\\alpha_{t-1}$ and $\\bar\\alpha_t$ is the usual slip; the check tests $t = 1$ and
$t = T$ to catch it.
''')

_add("03_crossover", notebook="03", title="when x_t outweighs x_0",
     answer='''
c = posterior_coefficients(schedule)
answer_b = int(((c.coef_xt > c.coef_x0) & (torch.arange(schedule.T + 1) >= 1)).nonzero()[0])
''',
     call="ok_b = check_03_crossover(answer_b, schedule)",
     setup="import torch\nfrom helpers.schedule import linear_schedule\n"
           "from helpers.posterior import posterior_coefficients\n"
           "from helpers.exercises_03_04 import check_03_crossover\nschedule = linear_schedule()",
     explanation='''
Compare the two weights of eq. 7 for every $t$ (entry 0 is padding, so mask it out) and take the
first $t$ where the weight on $x_t$ is larger. Early in the chain $x_t$ is almost $x_0$ and the
posterior trusts $x_0$; late in the chain $x_0$'s weight shrinks with $\\sqrt{\\bar\\alpha_{t-1}}$
and the step mostly rescales $x_t$.
''')

# ----------------------------------------------------------------------------- 04
_add("04_param_count", notebook="04", title="counting PredictNoiseNet's parameters",
     answer='''
def my_param_count(h):
    x_layers = (2 * h + h) + 2 * (h * h + h) + (h * 2 + 2)   # Linear(2,h), 2 x Linear(h,h), Linear(h,2)
    t_layers = 3 * (1 * h + h)                                # 3 x Linear(1,h)
    return x_layers + t_layers
''',
     call="ok = check_04_param_count(my_param_count)",
     setup="from helpers.exercises_03_04 import check_04_param_count",
     explanation='''
A `Linear(a, b)` holds an $a\\times b$ weight matrix and $b$ biases. The x-path is
`Linear(2,h) → Linear(h,h) → Linear(h,h) → Linear(h,2)`, the t-path three `Linear(1,h)`.
The x-path holds $2h^2 + 7h + 2$, the t-path $6h$: total $2h^2 + 13h + 2$; for $h = 128$ that is 34 434. The quadratic term is the two hidden
layers: doubling the width roughly quadruples the count.
''')

# ----------------------------------------------------------------------------- 05
_add("05_simple_loss", notebook="05", title="the simple loss for given t and ε",
     answer='''
def my_simple_loss(model, schedule, x0, t, eps):
    ab = schedule.alpha_bar[t].to(x0.dtype).unsqueeze(-1)       # (n, 1): ᾱ_t of each point
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps                  # eq. 4
    return (eps - model(x_t, t)).square().mean()                  # eq. 14 (mean over points and coords)
''',
     call="ok = check_05_simple_loss(my_simple_loss)",
     setup="from helpers.exercises_05_06 import check_05_simple_loss",
     explanation='''
Algorithm 1 of Ho et al.: noise each $x_0$ to its own $t$ with eq. 4,
$x_t = \\sqrt{\\bar\\alpha_t}\\,x_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\varepsilon$, ask the network for the noise,
and take the squared error against the $\\varepsilon$ that was really used (eq. 14). `t` holds one step per point,
so `alpha_bar[t]` has shape `(n,)`; `unsqueeze(-1)` makes it `(n, 1)` so it broadcasts over the two
coordinates. `.mean()` averages over points *and* coordinates (the article's `.square().mean()`); summing the
coordinates instead gives twice the value — the check recognises that slip. The target is $\\varepsilon$,
not $x_0$: predicting $x_0$ is a different parameterisation (notebook 07, §4).
''')

# ----------------------------------------------------------------------------- 06
_add("06_reverse_step", notebook="06", title="one reverse step of the article",
     answer='''
def my_p_sample(schedule, x_t, t, eps, z):
    beta, alpha, ab = schedule.beta[t], schedule.alpha[t], schedule.alpha_bar[t]
    mean = (x_t - beta / (1 - ab).sqrt() * eps) / alpha.sqrt()    # eq. 11
    return mean + beta.sqrt() * z                                 # σ_t² = β_t
''',
     call="ok = check_06_reverse_step(my_p_sample)",
     setup="from helpers.exercises_05_06 import check_06_reverse_step",
     explanation='''
Eq. 11 gives the mean of $p_\\theta(x_{t-1}\\mid x_t)$ in terms of the predicted noise:
$\\mu_\\theta = \\frac{1}{\\sqrt{\\alpha_t}}\\big(x_t - \\frac{\\beta_t}{\\sqrt{1-\\bar\\alpha_t}}\\,\\varepsilon_\\theta\\big)$ —
it is the posterior mean $\\tilde\\mu_t$ of notebook 03 with $x_0$ replaced by the guess that
$\\varepsilon_\\theta$ implies. Then add noise with the article's variance $\\sigma_t^2 = \\beta_t$, i.e.
$\\sqrt{\\beta_t}\\,z$. Common slips: dividing by $\\alpha_t$ instead of $\\sqrt{\\alpha_t}$, and
$\\sqrt{1-\\alpha_t}$ instead of $\\sqrt{1-\\bar\\alpha_t}$ in the $\\varepsilon$ coefficient. At $t = 1$ the loop
adds no noise (notebook 06, §4), which is why the exercise asks for $t \\ge 2$.
''')

# ----------------------------------------------------------------------------- 07
_add("07_ddim_step", notebook="07", title="the deterministic DDIM jump",
     answer='''
def my_ddim_step(schedule, x_t, t, s, eps):
    ab_t, ab_s = schedule.alpha_bar[t].item(), schedule.alpha_bar[s].item()
    x0_hat = (x_t - (1 - ab_t) ** 0.5 * eps) / ab_t ** 0.5      # eq. 4 solved for x_0
    return ab_s ** 0.5 * x0_hat + (1 - ab_s) ** 0.5 * eps        # eq. 12 with σ = 0
''',
     call="passed = check_07_ddim_step(my_ddim_step)",
     setup="from helpers.ddim import check_07_ddim_step",
     explanation='''
With $\\eta = 0$, eq. 12 has no noise term and $\\sigma = 0$, so it reads
$x_s = \\sqrt{\\bar\\alpha_s}\\,\\hat x_0 + \\sqrt{1-\\bar\\alpha_s}\\,\\hat\\varepsilon$: first
undo eq. 4 to get $\\hat x_0$ from $x_t$ and $\\hat\\varepsilon$, then *redo* eq. 4 at the earlier
time $s$ with the **same** $\\hat\\varepsilon$. That is why DDIM can jump: it moves along the
straight line that eq. 4 draws through $\\hat x_0$ and $\\hat\\varepsilon$, so $s$ can be any earlier
step, not just $t-1$. The usual slips are $\\alpha$ instead of $\\bar\\alpha$, and drawing fresh
noise instead of reusing $\\hat\\varepsilon$ (that would be $\\eta = 1$ with the wrong variance).
''')


def list_solutions(notebook: str | None = None) -> list[str]:
    """Print and return the solution keys, optionally only those of one notebook ("02")."""
    if notebook is not None and not (isinstance(notebook, str) and notebook in
                                     {s.notebook for s in SOLUTIONS.values()}):
        known = sorted({s.notebook for s in SOLUTIONS.values()})
        raise ValueError(f"notebook must be one of {known}, got {notebook!r}")
    keys = [k for k, s in SOLUTIONS.items() if notebook is None or s.notebook == notebook]
    for k in keys:
        print(f"{k:<22} notebook {SOLUTIONS[k].notebook}: {SOLUTIONS[k].title}")
    return keys


def solution_markdown(key: str) -> str:
    """The worked solution of exercise ``key`` as Markdown (see :func:`show_solution`)."""
    if not isinstance(key, str) or key.removeprefix("check_") not in SOLUTIONS:
        raise ValueError(f"key must be one of {sorted(SOLUTIONS)}, got {key!r}")
    return SOLUTIONS[key.removeprefix("check_")].markdown()


def show_solution(key: str) -> None:
    """Show the worked solution of exercise ``key`` (e.g. ``"02_closed_form"``).

    In a notebook it is rendered as Markdown (equations included); elsewhere it is printed.
    """
    text = solution_markdown(key)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:
        pass
    print(text)
