OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'layer',
    'points': 1,
    'suites': [   {   'cases': [{'code': ">>> assert isinstance(grid_sides, dict) and set(grid_sides) == {'conv2d_2', 'conv2d_3', 'conv2d_4'}\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
