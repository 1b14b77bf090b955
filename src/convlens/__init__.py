"""convlens: the helper package of *Seeing What Convnets Learn*.

One module per technique (:mod:`activations`, :mod:`filters`, :mod:`gradcam`) computes
with arrays in and arrays out; :mod:`plotting` and :mod:`widgets` draw; :mod:`data` and
:mod:`models` know nothing of either.
"""

__version__ = "0.1.0"
