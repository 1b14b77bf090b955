OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'pool',
    'points': 2,
    'suites': [   {   'cases': [   {'code': '>>> assert callable(pool_from_conv)\n', 'hidden': False, 'locked': False},
                                   {'code': ">>> assert np.asarray(pool_from_conv(np.zeros((1, 4, 6, 2)))).shape == (1, 2, 3, 2), '2 x 2 windows'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
