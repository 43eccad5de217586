"""The pages people use every day, a module per page: the time registration week
(``registration``), review (partial approval, ``review``), the billing basis and its release
(``billing``), staffing and the personal schedule (``staffing``) and the places
(``places``); ``base`` holds what they share. Every write goes through the services; every
read is scoped to the user's companies (``for_user``) and to what their role allows."""
