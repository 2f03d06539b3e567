"""helpers.variants: the saved networks of notebook 07 differ in one choice each, under one budget."""
import pytest
import torch

from helpers.networks import count_parameters
from helpers.train import DEFAULT_N_DATA
from helpers.variants import (BASELINE, N_SMALL, VARIANTS, data_fingerprint, load_variant, recipe,
                              training_data, variant_path)

BASE = BASELINE


@pytest.fixture(scope="module")
def loaded():
    return {name: load_variant(name) for name in VARIANTS}


def test_every_variant_is_saved_small_and_loads(loaded):
    for name, ck in loaded.items():
        assert variant_path(name).stat().st_size < 300_000, name      # kilobytes, not megabytes
        x = torch.zeros(4, 2)
        assert ck.sampler(x, torch.full((4,), ck.schedule.T)).shape == (4, 2)


def test_variants_share_the_budget_and_differ_in_one_choice(loaded):
    base = loaded[BASE]
    for name, ck in loaded.items():
        spec = VARIANTS[name]
        assert ck.schedule.name == spec["schedule"] and ck.prediction == spec["prediction"]
        got, want = ck.info["settings"], base.info["settings"]
        assert got["n_data"] == spec["n_data"] and got["prediction"] == spec["prediction"]
        assert type(ck.model) is type(base.model)
        assert ck.model.config() == base.model.config()
        assert count_parameters(ck.model) == count_parameters(base.model)
        assert got["steps"] == want["steps"], (name, got["steps"], want["steps"])
        for key in ("lr", "ema", "lr_schedule", "seed", "clip"):
            assert got[key] == want[key], (name, key)
        assert {k: got[k] for k in recipe(name)} == recipe(name), name   # what the script promises
        assert ck.normalizer == base.normalizer
        if name != BASE:        # the baseline is notebook 05's checkpoint, trained on all the data
            assert ck.info["data_fingerprint"] == data_fingerprint(spec["n_data"]), (
                f"{name} was trained on other points than training_data({spec['n_data']}); "
                "run `python scripts/train_variants.py --force`")
    assert loaded["cosine_eps"].schedule.T == base.schedule.T


def test_training_data_is_a_prefix_of_the_full_set_and_names_are_checked():
    full, small = training_data(), training_data(N_SMALL)
    assert full.shape == (DEFAULT_N_DATA, 2) and torch.equal(small, full[:N_SMALL])
    with pytest.raises(ValueError, match="name must be one of"):
        load_variant("linear")
    with pytest.raises(ValueError, match="name must be one of"):
        variant_path("nope")
