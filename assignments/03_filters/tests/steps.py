OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'steps',
    'points': 2,
    'suites': [   {   'cases': [{'code': ">>> assert isinstance(step_activations, np.ndarray) and step_activations.shape == (4,), 'an array of 4 numbers'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
