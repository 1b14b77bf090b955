"""The box measures (pointing game, heat inside a box, baselines) and the annotation file."""

import json

import numpy as np
import pytest

from convlens import annotations
from convlens.errors import ArgumentError, BadFileError
from convlens.measures import boxes


def test_relative_boxes_scale_and_refuse_boxes_outside_the_photo():
    rel = boxes.relative_boxes([[0, 32, 64, 128], [np.nan] * 4], (128, 128))
    np.testing.assert_allclose(rel[0], [0, 0.25, 0.5, 1.0])
    assert np.isnan(rel[1]).all()
    with pytest.raises(ArgumentError, match="inside the 128 x 128 photo"):
        boxes.relative_boxes([[0, 0, 129, 10]], (128, 128))
    with pytest.raises(ArgumentError, match="x0 < x1"):
        boxes.relative_boxes([[10, 0, 10, 10]], (128, 128))


def test_pointing_game_on_a_known_peak():
    maps = np.zeros((2, 15, 15))
    maps[:, 2, 12] = 1.0  # a peak at the top right (x = 12.5 / 15, y = 2.5 / 15)
    box = [[0.6, 0.0, 1.0, 0.4], [0.0, 0.5, 0.5, 1.0]]
    np.testing.assert_array_equal(boxes.pointing_hits(maps, box), [1.0, 0.0])


def test_pointing_game_shares_ties_and_gives_nan_for_a_flat_zero_map_or_no_box():
    maps = np.zeros((3, 4, 4))
    maps[0, 0, 0] = maps[0, 3, 3] = 1.0  # two peaks, one inside the top-left quarter
    maps[2, 1, 1] = 1.0
    box = [[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5], [np.nan] * 4]
    hits = boxes.pointing_hits(maps, box)
    assert hits[0] == 0.5
    assert np.isnan(hits[1]) and np.isnan(hits[2])


def test_mass_in_box_of_an_even_map_is_the_box_share():
    box = boxes.relative_boxes([[0, 0, 64, 32], [16, 16, 112, 112]], (128, 128))
    even = np.ones((2, 128, 128))
    np.testing.assert_allclose(boxes.mass_in_box(even, box), boxes.box_share(box))
    np.testing.assert_allclose(boxes.box_share(box), [0.125, 0.5625])


def test_mass_in_box_counts_only_the_heat_inside():
    maps = np.zeros((1, 10, 10))
    maps[0, :5, :5] = 3.0  # three quarters of the heat in the top-left quarter
    maps[0, 5:, 5:] = 1.0
    np.testing.assert_allclose(boxes.mass_in_box(maps, [[0, 0, 0.5, 0.5]]), [0.75])


def test_centre_guess_hits_only_boxes_that_hold_the_centre():
    hits = boxes.centre_hits([[0.2, 0.2, 0.8, 0.8], [0, 0, 0.5, 0.5], [0.5, 0.5, 1, 1], [np.nan] * 4])
    np.testing.assert_array_equal(hits[:3], [1.0, 0.0, 1.0])
    assert np.isnan(hits[3])


def test_one_box_per_heatmap():
    with pytest.raises(ArgumentError, match="one box per heatmap"):
        boxes.mass_in_box(np.ones((2, 4, 4)), [[0, 0, 1, 1]])


def _write(tmp_path, photos, size=(128, 128)):
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps({"image_size": list(size), "photos": photos}))
    return path


def test_load_boxes_and_match_by_class_folder_and_name(tmp_path):
    path = _write(tmp_path, [
        {"file": "cats/cat.1.jpg", "label": "cat", "animal": [0, 0, 128, 128], "head": None, "note": "no head"},
        {"file": "dogs/dog.7.jpg", "label": "dog", "animal": [32, 0, 96, 64], "head": [32, 0, 64, 32]},
    ])
    loaded = annotations.load_boxes(path)
    np.testing.assert_array_equal(loaded.labels, [0, 1])
    np.testing.assert_allclose(loaded.head[1], [0.25, 0, 0.5, 0.25])
    assert np.isnan(loaded.head[0]).all() and loaded.notes[0] == "no head"
    rows = annotations.match(loaded, ["/x/validation/dogs/dog.7.jpg", "/x/validation/cats/cat.2.jpg"])
    np.testing.assert_array_equal(rows, [1, -1])


def test_a_broken_annotation_file_names_the_fix(tmp_path):
    path = _write(tmp_path, [{"file": "cats/cat.1.jpg", "label": "cow", "animal": None, "head": None}])
    with pytest.raises(BadFileError, match="git checkout data/annotations"):
        annotations.load_boxes(path)


def test_the_committed_boxes_cover_both_classes_and_lie_inside_their_photos():
    loaded = annotations.load_boxes()
    assert len(loaded.files) >= 200
    assert (loaded.labels == 0).sum() >= 100 and (loaded.labels == 1).sum() >= 100
    animal, head = loaded.animal, loaded.head
    both = ~np.isnan(head).any(axis=1) & ~np.isnan(animal).any(axis=1)
    # a head box lies within its animal box (a pixel of slack for boxes drawn by eye)
    slack = 1.5 / 128
    assert np.all(head[both, :2] >= animal[both, :2] - slack)
    assert np.all(head[both, 2:] <= animal[both, 2:] + slack)


def test_evidence_and_baselines_agree_with_the_measures_on_their_own_guesses():
    animal = np.array([[0.1, 0.1, 0.9, 0.9], [0.0, 0.0, 0.5, 0.5]])
    head = np.array([[0.3, 0.1, 0.6, 0.4], [np.nan] * 4])
    centre = np.zeros((2, 101, 101))
    centre[:, 50, 50] = 1.0  # the centre of a 101 x 101 map is the photo's centre
    even = np.ones((2, 101, 101))
    guesses = boxes.baselines(animal, head)
    for maps, name in ((centre, "centre guess"), (even, "even heat")):
        measured = boxes.evidence(maps, animal, head)
        assert set(measured) == set(boxes.MEASURES)
        for key in boxes.MEASURES:
            np.testing.assert_allclose(measured[key], guesses[name][key], atol=0.02, err_msg=(name, key))
