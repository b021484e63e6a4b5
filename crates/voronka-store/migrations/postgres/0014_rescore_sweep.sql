-- The rescoring worker takes queued leads in order of lead id (a sweep), so that the leads of one
-- transaction lie close together; the order of arrival is no longer read.
DROP INDEX rescore_queue_order;
