-- Who holds each claimed firing, and until when (unix time). With several processes on one
-- database a firing is claimed under a lease that its holder renews while it works on it;
-- once the lease has run out (the holder died), another process takes the firing over, and
-- looks for its post first if it was attempted. NULL (firings claimed before this version):
-- held by nobody, so taken over at once.
ALTER TABLE reminder_firings ADD COLUMN owner text;
ALTER TABLE reminder_firings ADD COLUMN lease_until bigint;
