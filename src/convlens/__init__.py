"""convlens: the helper package of *Seeing What Convnets Learn*.

One module per technique (:mod:`activations`, :mod:`filters`, :mod:`gradcam`) computes
with arrays in and arrays out; :mod:`plotting` and :mod:`widgets` draw; :mod:`images` (one image to
the model's input), :mod:`data` (the photos, :mod:`archive` their download) and :mod:`models`
know nothing of either.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
