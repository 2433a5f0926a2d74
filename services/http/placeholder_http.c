/* placeholder */
int aurid_placeholder_http(void);
int aurid_placeholder_http(void)
{
	return 0;
}
