OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'reg',
    'points': 2,
    'suites': [   {   'cases': [{'code': ">>> assert isinstance(roughness_ratio, float) and roughness_ratio > 0, 'a positive ratio'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
