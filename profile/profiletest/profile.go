package profiletest

import "strings"

// SampleProfile returns a StarRocks 3.5 query profile in the real text format
// (RuntimeProfile.prettyPrint, merged "Execution" layout) for queryID and sql,
// with the figures of the reference example: QueryCumulativeCpuTime 251.340ms,
// QueryPeakMemoryUsagePerNode 6.331 MB, QuerySpillBytes 0, one OLAP_SCAN
// reading 18.742 MB and 2880404 rows with 903 of 1204 pages from the cache.
func SampleProfile(queryID, sql string) string {
	r := strings.NewReplacer("{ID}", queryID, "{SQL}", sql)
	return r.Replace(sampleProfile)
}

const sampleProfile = `Query:
  Summary:
     - Query ID: {ID}
     - Start Time: 2025-09-05 11:46:53
     - End Time: 2025-09-05 11:46:53
     - Total: 92ms
     - Query Type: Query
     - Query State: Finished
     - StarRocks Version: 3.5.4-1ce07c8
     - User: analyst
     - Default Db: tpcds
     - Sql Statement: {SQL}
     - Variables: parallel_fragment_exec_instance_num=1,max_parallel_scan_instance_num=-1,pipeline_dop=0,enable_adaptive_sink_dop=true,enable_runtime_adaptive_dop=false,runtime_profile_report_interval=10,resource_group=default_wg
     - NonDefaultSessionVariables: {"enable_profile":{"defaultValue":false,"actualValue":true}}
     - Collect Profile Time: 2ms
     - IsProfileAsync: true
  Planner:
     - -- Parser[1] 0
     - -- Total[1] 7ms
     -     -- Analyzer[1] 1ms
     -     -- Optimizer[1] 4ms
     -     -- ExecPlanBuild[1] 0
     - -- Deploy[1] 2ms
  Execution:
     - Topology: {"rootId":2,"nodes":[{"id":2,"name":"AGGREGATION","properties":{"sinkIds":[],"displayMem":true},"children":[0]},{"id":0,"name":"OLAP_SCAN","properties":{"sinkIds":[],"displayMem":false},"children":[]}]}
     - FrontendProfileMergeTime: 1.377ms
     - QueryAllocatedMemoryUsage: 18.742 MB
     - QueryCumulativeCpuTime: 251.340ms
     - QueryCumulativeNetworkTime: 827.861us
     - QueryCumulativeOperatorTime: 310.492ms
     - QueryCumulativeScanTime: 190.113ms
     - QueryDeallocatedMemoryUsage: 17.903 MB
     - QueryExecutionWallTime: 85.664ms
     - QueryPeakMemoryUsagePerNode: 6.331 MB
     - QueryPeakScheduleTime: 646ns
     - QuerySpillBytes: 0.000 B
     - QuerySumMemoryUsage: 6.331 MB
     - ResultDeliverTime: 0ns
    Fragment 0:
       - BackendNum: 1
       - InstanceNum: 1
      Pipeline (id=0):
         - DegreeOfParallelism: 1
        RESULT_SINK (plan_node_id=-1):
          CommonMetrics:
             - OperatorTotalTime: 52.001us
             - PushRowNum: 12
    Fragment 1:
       - BackendNum: 3
      Pipeline (id=1):
         - DegreeOfParallelism: 8
        OLAP_SCAN (plan_node_id=0):
          CommonMetrics:
             - OperatorTotalTime: 12.345ms
             - PullRowNum: 7.887K (7887)
          UniqueMetrics:
             - Table: store_sales
             - ScanTime: 180.223ms
               - __MAX_OF_ScanTime: 40.100ms
               - __MIN_OF_ScanTime: 20.050ms
             - IOTaskExecTime: 170.004ms
             - IOTime: 120.318ms
             - BytesRead: 18.742 MB
             - CompressedBytesRead: 6.120 MB
             - UncompressedBytesRead: 18.742 MB
             - RawRowsRead: 2.880M (2880404)
             - RowsRead: 2.880M (2880404)
             - ReadPagesNum: 1.204K (1204)
             - CachedPagesNum: 903
`
