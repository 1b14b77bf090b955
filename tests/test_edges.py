"""edge_profile: edges at every orientation and in colour, on known kernels."""

import keras
import numpy as np
from keras import layers

from convlens.measures import read_out

SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])  # fires where lighter right
DIAGONAL = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]])  # lighter to the top right


def _model(kernels: list[np.ndarray]) -> keras.Model:
    inputs = keras.Input(shape=(24, 24, 3))
    conv = layers.Conv2D(len(kernels), 3, activation="relu", name="edges")(inputs)
    model = keras.Model(inputs, conv)
    model.get_layer("edges").set_weights([np.stack(kernels, axis=-1).astype(np.float32),
                                          np.zeros(len(kernels), np.float32)])
    return model


def _blocks(colour: bool) -> np.ndarray:
    rng = np.random.default_rng(7)
    shape = (6, 6, 6, 3 if colour else 1)
    blocks = rng.random(shape).repeat(4, axis=1).repeat(4, axis=2)
    return np.broadcast_to(blocks, (6, 24, 24, 3)).astype(np.float32)


def test_a_diagonal_kernel_is_found_at_its_orientation_and_polarity():
    grey = np.stack([DIAGONAL] * 3, axis=-1)
    vertical = np.stack([SOBEL_X] * 3, axis=-1)
    model = _model([grey, vertical])
    profile = read_out.edge_profile(model, _blocks(colour=False))
    assert profile["edge direction"][0] == 315.0  # lighter to the top right: up is -90 degrees
    assert profile["edge direction"][1] == 0.0
    assert profile["edge"][0] > 0.5 and profile["edge"][1] > 0.5
    old = read_out.edge_correlations(model, _blocks(colour=False))
    # the horizontal and vertical references alone miss part of the diagonal channel
    assert profile["edge"][0] > max(old["horizontal edges"][0], old["vertical edges"][0]) + 0.05


def test_a_colour_edge_is_found_in_the_red_green_plane_and_a_colour_in_its_plane():
    red_minus_green = np.zeros((3, 3, 3))
    red_minus_green[:, :, 0], red_minus_green[:, :, 1] = SOBEL_X, -SOBEL_X
    blue = np.zeros((3, 3, 3))
    blue[1, 1] = [-0.5, -0.5, 1.0]
    profile = read_out.edge_profile(_model([red_minus_green, blue]), _blocks(colour=True))
    assert read_out.PLANES[profile["edge plane"][0]] == "red-green"
    assert profile["edge direction"][0] == 0.0 and profile["edge"][0] > 0.5
    assert read_out.PLANES[profile["plane index"][1]] == "blue-yellow"
    assert profile["plane"][1] > 0.8  # not 1: the ReLU cuts the plane's negative half
