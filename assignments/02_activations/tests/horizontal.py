OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'horizontal',
    'points': 2,
    'suites': [   {   'cases': [{'code': ">>> assert isinstance(horizontal_channel, int) and 0 <= horizontal_channel < 32, 'a channel of conv2d_1: 0 to 31'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
