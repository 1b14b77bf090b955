OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'scaling',
    'points': 2,
    'suites': [   {   'cases': [   {'code': ">>> assert isinstance(peak_ratio, float) and peak_ratio >= 1, 'a ratio of the largest to the smallest peak'\n", 'hidden': False, 'locked': False},
                                   {'code': ">>> assert isinstance(chollet_blank, float), 'a float'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
