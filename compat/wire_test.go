package compat

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// sdkWireTypes are the apitype types the server's wire types mirror.
var sdkWireTypes = map[string]any{
	"StackSummary": apitype.StackSummary{}, "ListStacksResponse": apitype.ListStacksResponse{},
	"CreateStackRequest": apitype.CreateStackRequest{}, "CreateStackResponse": apitype.CreateStackResponse{},
	"Message": apitype.Message{}, "OperationStatus": apitype.OperationStatus{}, "Stack": apitype.Stack{},
	"StackRenameRequest":  apitype.StackRenameRequest{},
	"EncryptValueRequest": apitype.EncryptValueRequest{}, "EncryptValueResponse": apitype.EncryptValueResponse{},
	"BatchEncryptRequest": apitype.BatchEncryptRequest{}, "BatchEncryptResponse": apitype.BatchEncryptResponse{},
	"DecryptValueRequest": apitype.DecryptValueRequest{}, "DecryptValueResponse": apitype.DecryptValueResponse{},
	"BatchDecryptRequest": apitype.BatchDecryptRequest{}, "BatchDecryptResponse": apitype.BatchDecryptResponse{},
	"Log3rdPartyDecryptionEvent": apitype.Log3rdPartyDecryptionEvent{}, "ImportStackResponse": apitype.ImportStackResponse{},
	"UpdateProgramRequest": apitype.UpdateProgramRequest{}, "UpdateProgramResponse": apitype.UpdateProgramResponse{},
	"StartUpdateRequest": apitype.StartUpdateRequest{}, "StartUpdateResponse": apitype.StartUpdateResponse{},
	"RenewUpdateLeaseRequest": apitype.RenewUpdateLeaseRequest{}, "RenewUpdateLeaseResponse": apitype.RenewUpdateLeaseResponse{},
	"CompleteUpdateRequest": apitype.CompleteUpdateRequest{}, "PatchUpdateCheckpointRequest": apitype.PatchUpdateCheckpointRequest{},
	"PatchUpdateVerbatimCheckpointRequest": apitype.PatchUpdateVerbatimCheckpointRequest{},
	"PatchUpdateCheckpointDeltaRequest":    apitype.PatchUpdateCheckpointDeltaRequest{},
	"EngineEventBatch":                     apitype.EngineEventBatch{}, "UpdateResults": apitype.UpdateResults{}, "GetUpdateEventsResponse": apitype.GetUpdateEventsResponse{},
	"UpdateInfo": apitype.UpdateInfo{}, "GetHistoryResponse": apitype.GetHistoryResponse{}, "StackPreview": apitype.StackPreview{},
	"GetLatestStackPreviewsResponse": apitype.GetLatestStackPreviewsResponse{}, "APICapabilityConfig": apitype.APICapabilityConfig{},
	"CapabilitiesResponse": apitype.CapabilitiesResponse{}, "InsightsAccount": apitype.InsightsAccount{},
	"InsightsAccountOwner": apitype.InsightsAccountOwner{}, "CreateInsightsAccountRequest": apitype.CreateInsightsAccountRequest{},
	"ESCEnvironment": apitype.ESCEnvironment{}, "ListESCEnvironmentsResponse": apitype.ListESCEnvironmentsResponse{},
}

// extraFields are fields the server sends beyond the SDK's type, on
// purpose: clients ignore unknown fields.
var extraFields = map[string]bool{
	"InsightsAccount.tags": true, "ESCEnvironment.created": true, "ESCEnvironment.modified": true, "ESCEnvironment.tags": true,
}

// jsonFields maps a struct's JSON names (embedded structs flattened) to
// their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// kind reduces a type to what JSON sees of it.
func kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.String() == "json.RawMessage":
		return "any"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "bytes"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	case reflect.Interface:
		return "any"
	}
	return "object"
}

// TestWireTypesMatchSDK: every JSON field of the server's mirrored stack,
// environment and account types is a field of the SDK type it mirrors,
// with a compatible JSON kind; the SDK's fields the server leaves out are
// listed.
func TestWireTypesMatchSDK(t *testing.T) {
	ours := wire.Mirrored()
	if len(ours) != len(sdkWireTypes) {
		t.Errorf("the server mirrors %d types, the test knows %d", len(ours), len(sdkWireTypes))
	}
	names := make([]string, 0, len(ours))
	for n := range ours {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		theirs, ok := sdkWireTypes[name]
		if !ok {
			t.Errorf("%s: no such apitype type in the test's table", name)
			continue
		}
		of, tf := jsonFields(reflect.TypeOf(ours[name])), jsonFields(reflect.TypeOf(theirs))
		for f, ot := range of {
			tt, ok := tf[f]
			switch {
			case !ok && !extraFields[name+"."+f]:
				t.Errorf("%s.%s: the SDK's type has no such field", name, f)
			case ok && kind(ot) != "any" && kind(tt) != "any" && kind(ot) != kind(tt):
				t.Errorf("%s.%s: the server's is a %s, the SDK's a %s", name, f, kind(ot), kind(tt))
			}
		}
		var left []string
		for f := range tf {
			if _, ok := of[f]; !ok {
				left = append(left, f)
			}
		}
		sort.Strings(left)
		if len(left) > 0 {
			t.Logf("%s: the server leaves out %v", name, left)
		}
	}
}
