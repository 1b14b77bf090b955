OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'vgg',
    'points': 2,
    'suites': [   {   'cases': [   {'code': ">>> assert isinstance(small_flat, dict) and set(small_flat) == set(CONV), 'one entry per layer of CONV'\n", 'hidden': False, 'locked': False},
                                   {'code': '>>> assert all((isinstance(v, int) and 0 <= v <= 12 for v in small_flat.values()))\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
