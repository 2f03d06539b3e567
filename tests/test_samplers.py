"""helpers.samplers: one entry point per sampler, and the sampler/steps widget of notebook 07."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.ddim import ddim_sample_loop  # noqa: E402
from helpers.networks import TimeEmbeddingNet  # noqa: E402
from helpers.samplers import SAMPLERS, SamplerExplorer, sample_with  # noqa: E402
from helpers.sampling import p_sample_loop  # noqa: E402
from helpers.schedule import linear_schedule  # noqa: E402

T = 40


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return TimeEmbeddingNet(T=T).eval()


def test_sample_with_dispatches_to_the_samplers(net):
    sched = linear_schedule(T)
    torch.testing.assert_close(sample_with("DDPM", net, sched, 30, generator=1),
                               p_sample_loop(net, sched, 30, generator=1))
    torch.testing.assert_close(sample_with("DDPM", net, sched, 30, T, generator=1),
                               p_sample_loop(net, sched, 30, generator=1))
    for name, eta in (("DDIM η=0", 0.0), ("DDIM η=1", 1.0)):
        torch.testing.assert_close(sample_with(name, net, sched, 30, 10, generator=2),
                                   ddim_sample_loop(net, sched, 30, 10, eta=eta, generator=2))
    a = sample_with("DDIM η=0", net, sched, 30, 10, generator=2)
    b = sample_with("DDIM η=1", net, sched, 30, 10, generator=2)
    assert not torch.allclose(a, b)


def test_sample_with_rejects_bad_input(net):
    sched = linear_schedule(T)
    with pytest.raises(ValueError, match="sampler must be one of"):
        sample_with("DDIM", net, sched, 5, 10)
    with pytest.raises(ValueError, match="n_steps must be T"):
        sample_with("DDPM", net, sched, 5, 10)
    with pytest.raises(ValueError, match="n_steps"):
        sample_with("DDIM η=0", net, sched, 5, T + 1)


def _draw(calls):
    def draw(sampler, steps):
        calls.append((sampler, steps))
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.set_title(f"{sampler} {steps}")
        return fig
    return draw


def test_explorer_redraws_once_per_change_and_locks_ddpm_to_T():
    calls = []
    w = SamplerExplorer(_draw(calls), T=T, steps=(5, 10, 20), n_steps=10)
    assert w.state() == {"sampler": "DDIM η=0", "steps": 10, "n_draws": 1, "error": False}
    assert list(w.steps.options) == [5, 10, 20, T]
    w.steps.value = 20
    assert w.last == ("DDIM η=0", 20) and w.n_draws == 2
    w.sampler.value = "DDPM"                       # slider jumps to T and is disabled, one redraw
    assert w.last == ("DDPM", T) and w.n_draws == 3 and w.steps.disabled
    w.sampler.value = "DDIM η=1"                   # back to the steps chosen before
    assert w.last == ("DDIM η=1", 20) and w.n_draws == 4 and not w.steps.disabled
    assert calls == [("DDIM η=0", 10), ("DDIM η=0", 20), ("DDPM", T), ("DDIM η=1", 20)]
    assert w.png_digest is not None and len(w.output.outputs) == 1
    assert "image/png" in w.output.outputs[0]["data"]


def test_explorer_shows_errors_in_place_and_validates():
    state = {"fail": False}

    def draw(sampler, steps):
        if state["fail"]:
            raise RuntimeError("boom")
        return plt.figure()

    w = SamplerExplorer(draw, T=T, steps=(5, 10), n_steps=5)
    state["fail"] = True
    w.steps.value = 10
    assert w.state()["error"] and "boom" in w.output.outputs[0]["text"]
    with pytest.raises(ValueError, match="n_steps must be one of"):
        SamplerExplorer(draw, T=T, steps=(5, 10), n_steps=7)
    with pytest.raises(ValueError, match="sampler must be one of"):
        SamplerExplorer(draw, T=T, sampler="DDIM")
    with pytest.raises(ValueError, match="draw_fn"):
        SamplerExplorer("nope", T=T)
    assert SAMPLERS == ("DDPM", "DDIM η=0", "DDIM η=1")
