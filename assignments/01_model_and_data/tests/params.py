OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'params',
    'points': 2,
    'suites': [   {   'cases': [   {'code': ">>> assert isinstance(parameter_counts, dict) and set(parameter_counts) == {'conv2d_2', 'dense_1'}\n", 'hidden': False, 'locked': False},
                                   {'code': ">>> assert all((isinstance(v, int) for v in parameter_counts.values())), 'counts are ints'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
