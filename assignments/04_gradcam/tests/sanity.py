OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'sanity',
    'points': 2,
    'suites': [   {   'cases': [{'code': ">>> assert isinstance(head_only_median, float) and -1 <= head_only_median <= 1, 'a correlation'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
